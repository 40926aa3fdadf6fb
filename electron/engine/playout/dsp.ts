/**
 * Signal processing for playout adjustments, all in place on Int16 sample
 * arrays so the audio path allocates nothing.
 *
 * Time-stretching is WSOLA-style: one pitch period (the lag where the signal
 * best resembles itself) is removed or repeated, with a linear cross-fade
 * across that period, so the waveform stays continuous at both seams.
 */

/** Below this RMS (about -50 dBFS) a segment can be stretched by any lag without audible effect. */
const QUIET_RMS = 100;

export interface PeriodMatch {
  lag: number;
  /** Normalised correlation between x[start, start+lag) and x[start+lag, start+2*lag): 1 = identical. */
  correlation: number;
}

/**
 * Finds the lag in [minLag, maxLag] where the segment repeats itself best.
 * Requires end - start >= 2 * maxLag. Sums every other sample: plenty for the
 * pitch of voice at 48 kHz and half the cost.
 */
export function findPeriod(x: Int16Array, start: number, minLag: number, maxLag: number, out: PeriodMatch): PeriodMatch {
  out.lag = 0;
  out.correlation = -1;
  for (let lag = minLag; lag <= maxLag; lag++) {
    const c = correlation(x, start, x, start + lag, lag);
    if (c > out.correlation) {
      out.correlation = c;
      out.lag = lag;
    }
  }
  return out;
}

/**
 * Normalised correlation of a[aStart, aStart+n) with b[bStart, bStart+n), 1 = identical shape, 0 if either is
 * silent. Sums every other sample: plenty for voice at 48 kHz and half the cost.
 */
export function correlation(a: Int16Array, aStart: number, b: Int16Array, bStart: number, n: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < n; i += 2) {
    const u = a[aStart + i]!;
    const v = b[bStart + i]!;
    xy += u * v;
    xx += u * u;
    yy += v * v;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
}

export function isQuiet(x: Int16Array, start: number, end: number): boolean {
  let energy = 0;
  for (let i = start; i < end; i++) energy += x[i]! * x[i]!;
  return end > start && energy / (end - start) < QUIET_RMS * QUIET_RMS;
}

/**
 * Removes one period of `lag` samples from x[start, end): the first period is
 * cross-faded into the second, the rest slides back. Returns the new end.
 */
export function accelerate(x: Int16Array, start: number, end: number, lag: number): number {
  for (let i = 0; i < lag; i++) {
    const w = (i + 1) / (lag + 1);
    x[start + i] = Math.round(x[start + i]! * (1 - w) + x[start + i + lag]! * w);
  }
  x.copyWithin(start + lag, start + 2 * lag, end);
  return end - lag;
}

/**
 * Repeats one period of `lag` samples in x[start, end): after the first
 * period comes a cross-fade from the second period back into the first, then
 * the original continuation. x must have room for `lag` more samples. Returns the new end.
 */
export function preemptiveExpand(x: Int16Array, start: number, end: number, lag: number): number {
  x.copyWithin(start + 2 * lag, start + lag, end);
  for (let i = 0; i < lag; i++) {
    const w = (i + 1) / (lag + 1);
    x[start + lag + i] = Math.round(x[start + lag + i]! * (1 - w) + x[start + i]! * w);
  }
  return end + lag;
}

/** Cross-fades x[start, start+n) in from `from[0, n)` (which fades out). */
export function crossFadeFrom(x: Int16Array, start: number, from: Int16Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const w = (i + 1) / (n + 1);
    x[start + i] = Math.round(from[i]! * (1 - w) + x[start + i]! * w);
  }
}

/** Scales x[start, start+n) by a gain moving linearly from g0 to g1. */
export function applyGainRamp(x: Int16Array, start: number, n: number, g0: number, g1: number): void {
  if (g0 === 1 && g1 === 1) return;
  for (let i = 0; i < n; i++) {
    x[start + i] = Math.round(x[start + i]! * (g0 + ((g1 - g0) * (i + 1)) / n));
  }
}
