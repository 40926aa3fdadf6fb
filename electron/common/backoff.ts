// How a link that dropped waits before its next attempt: exponential, capped, optionally jittered. The station's
// signalling client and the renderer's control link both reconnect by it.

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

/** Capped low so that a station is back within 3 s of its server's return, however long the server was away. */
export const SIGNALLING_BACKOFF: Backoff = { initialMs: 250, maxMs: 1600, factor: 2, jitter: 0.25 };

/** The keypanel's link to its own station: 250 ms, doubling to 4 s. */
export const CONTROL_LINK_BACKOFF: Backoff = { initialMs: 250, maxMs: 4000, factor: 2, jitter: 0 };

/** The wait before attempt number `attempt` (0 for the first retry). */
export function backoffDelay(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  const { initialMs, maxMs, factor, jitter } = backoff;
  const base = Math.min(maxMs, initialMs * factor ** attempt);
  return Math.min(maxMs, base * (1 - jitter + 2 * jitter * random()));
}
