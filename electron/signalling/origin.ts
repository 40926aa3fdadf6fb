/**
 * Which browser pages may open a WebSocket to a station. A browser always sends `Origin`; a page may only talk to
 * the server that served it (the guest page on the signalling port, the keypanel on the control port). Stations
 * and other non-browser clients send no `Origin` and are unaffected: the check protects crews from the web pages
 * they happen to have open, not from programs they run.
 */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  try {
    const parsed = new URL(origin);
    // `null` (sandboxed frames, file://) parses to an opaque origin whose host is empty.
    return parsed.host !== '' && parsed.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
