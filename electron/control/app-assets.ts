// The built renderer's files (dist/renderer) and the headers they are served with, for both the Electron app://
// protocol and the WebSocket bridge's HTTP side. Nothing outside the root is reachable, symlinks included.
import { contentTypeOf, resolveInside } from '../http/static-handler';

/** The renderer's Content-Security-Policy: only our own files, and WebSocket back to where the page came from. */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/**
 * Maps a URL pathname to a file of the built renderer, or null when there is none or the path tries to leave it
 * (for the Electron app:// protocol; the bridge's HTTP side serves through the same check in staticHandler).
 */
export const resolveAppAsset = resolveInside;

/** Headers every renderer file is served with, whichever transport serves it. */
export function appAssetHeaders(file: string): Record<string, string> {
  return {
    'Content-Type': contentTypeOf(file),
    'Content-Security-Policy': APP_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}
