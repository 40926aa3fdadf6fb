// Resolves request paths to files of the built renderer (dist/renderer), for both the Electron app://
// protocol and the WebSocket bridge's HTTP side. Nothing outside the root is reachable, symlinks included.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

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

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function isInside(root: string, file: string): boolean {
  return file === root || file.startsWith(root + path.sep);
}

/**
 * Maps a URL pathname ('/assets/x.js', '/') to a file under root, or null when there is none or the
 * path tries to leave root. Directories resolve to their index.html.
 */
export async function resolveAppAsset(rootDir: string, urlPathname: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  try {
    const root = await realpath(rootDir);
    const candidate = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
    if (!isInside(root, candidate)) return null;
    let file = await realpath(candidate);
    if ((await stat(file)).isDirectory()) file = await realpath(path.join(file, 'index.html'));
    if (!isInside(root, file)) return null;
    return (await stat(file)).isFile() ? file : null;
  } catch {
    return null;
  }
}

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
