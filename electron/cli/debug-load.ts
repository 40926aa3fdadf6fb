/**
 * Debug switches that load the station's main thread on purpose, to prove that audio does not depend on it
 * (`npm run bench -- glitches`, and the tests). Never on by default.
 *
 *   --debug-stall-main MS/EVERY_MS   block the main thread for MS every EVERY_MS (e.g. 100/2000)
 *   --debug-main-garbage MB_PER_S    allocate and drop about that much on the main thread every second
 */
import { silentLog, type Log } from '../common/log';

export interface DebugLoad {
  stop(): void;
}

/** Parses MS/EVERY_MS; the error names the flag. */
export function parseStall(value: string): { ms: number; everyMs: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const ms = m ? Number(m[1]) : NaN;
  const everyMs = m ? Number(m[2]) : NaN;
  if (!m || ms <= 0 || everyMs <= ms) throw new Error(`--debug-stall-main: "${value}" must be MS/EVERY_MS with 0 < MS < EVERY_MS, e.g. 100/2000`);
  return { ms, everyMs };
}

export function parseGarbage(value: string): number {
  const mb = Number(value);
  if (!Number.isFinite(mb) || mb <= 0 || mb > 1000) throw new Error(`--debug-main-garbage: "${value}" must be MB per second, from 1 to 1000`);
  return mb;
}

/** Blocks this thread for `ms` every `everyMs`, spinning (as a long synchronous task or a GC pause would). */
export function stallMainThread(ms: number, everyMs: number, root: Log = silentLog): DebugLoad {
  const log = root.child({ component: 'debug' });
  const timer = setInterval(() => {
    const started = performance.now();
    while (performance.now() < started + ms);
    log.info(`main thread was blocked for ${Math.round(performance.now() - started)} ms`);
  }, everyMs);
  log.info(`main thread blocked for ${ms} ms every ${everyMs} ms`);
  return { stop: () => clearInterval(timer) };
}

/** Allocates about `mbPerSecond` of short-lived objects on this thread, in 20 slices a second, and drops them. */
export function churnGarbage(mbPerSecond: number, root: Log = silentLog): DebugLoad {
  const log = root.child({ component: 'debug' });
  let kept: unknown[] = [];
  const perSlice = (mbPerSecond * 1024 * 1024) / 20;
  const timer = setInterval(() => {
    // Objects and strings, not one big buffer: the young generation must actually collect them.
    const slice: unknown[] = [];
    for (let bytes = 0; bytes < perSlice; bytes += 64) slice.push({ a: bytes, b: `g${bytes}` });
    kept = slice;
  }, 50);
  log.info(`main thread churns ${mbPerSecond} MB/s of garbage`);
  return {
    stop: () => {
      clearInterval(timer);
      kept = [];
      void kept;
    },
  };
}
