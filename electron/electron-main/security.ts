// Decisions that keep the renderer boxed in, as plain functions so Node tests can drive them without
// the Electron binary. main.ts only wires them to Electron's hooks.

/** The renderer is served from app://partyline/ (a registered standard, secure scheme). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'partyline';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** True only for URLs of our own app origin; custom schemes have an opaque URL.origin, so compare parts. */
export function isAppUrl(url: string | null | undefined): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/** The frame an IPC message came from must be our page, not an iframe or a page navigated elsewhere. */
export function isTrustedSender(senderFrame: { url: string } | null | undefined): boolean {
  return senderFrame != null && isAppUrl(senderFrame.url);
}

/**
 * Audio runs in the main process (PortAudio), so the page needs no media, camera, notifications or
 * anything else; only clipboard writes, from our own origin, so the operator can copy a hosting URL.
 */
const GRANTED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

export function decidePermission(permission: string, requestingUrl: string | null | undefined): boolean {
  return GRANTED_PERMISSIONS.has(permission) && isAppUrl(requestingUrl);
}

/** The app is one page; any navigation away from it is refused. */
export function decideNavigation(targetUrl: string): 'allow' | 'deny' {
  return isAppUrl(targetUrl) ? 'allow' : 'deny';
}

/** New windows are never opened in-app; https links (documentation) go to the system browser. */
export function decideWindowOpen(targetUrl: string): { action: 'deny'; openExternally: boolean } {
  let external: boolean;
  try {
    external = new URL(targetUrl).protocol === 'https:';
  } catch {
    external = false;
  }
  return { action: 'deny', openExternally: external };
}
