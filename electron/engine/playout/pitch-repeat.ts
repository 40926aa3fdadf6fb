/**
 * Stands in for a packet that is late, not lost (a slip: see PlayoutBuffer.produce), by repeating the last pitch
 * period of what was played, and hands over to the packet's decoded audio where the two line up.
 *
 * The decoder's own concealment is for loss: it tells the decoder that a frame is gone, and Opus then fades its
 * concealment and needs two more frames to come back to level, a dip of 30 ms for a packet that did arrive. A late
 * packet is decoded after all, so the decoder must not hear of a loss: the stand-in comes from the output, as
 * NetEq's expand does, and the decoder goes on as if nothing happened.
 */
import { correlation } from './dsp';

/** Shortest period tried: one period of a 500 Hz voice (at 48 kHz). */
const MIN_LAG = 96;
/** Longest period tried: one period of a 100 Hz voice. */
const MAX_LAG = 480;
/** The output history a repetition starts from: two of the longest periods. */
export const PITCH_REPEAT_HISTORY = 2 * MAX_LAG;

export class PitchRepeat {
  private readonly cycle = new Int16Array(MAX_LAG);
  /** What alignment() compares against: the repetition ahead, up to two of the longest periods. */
  private readonly ahead = new Int16Array(2 * MAX_LAG);
  private lag = 0;
  private phase = 0;

  get active(): boolean {
    return this.lag > 0;
  }

  /**
   * Starts repeating the newest period of x[start, end), the output so far. False if that is too short to hold
   * two periods: nothing started.
   */
  begin(x: Int16Array, start: number, end: number): boolean {
    const maxLag = Math.min(MAX_LAG, Math.floor((end - start) / 2));
    if (maxLag < MIN_LAG) return false;
    let best = maxLag;
    let bestCorrelation = -Infinity;
    for (let lag = MIN_LAG; lag <= maxLag; lag++) {
      // The newest period against the one before it.
      const c = correlation(x, end - lag, x, end - 2 * lag, lag);
      if (c > bestCorrelation) {
        bestCorrelation = c;
        best = lag;
      }
    }
    this.cycle.set(x.subarray(end - best, end));
    this.lag = best;
    this.phase = 0;
    return true;
  }

  /** Writes the next `n` samples of the repetition into out[offset, offset + n). */
  fill(out: Int16Array, offset: number, n: number): void {
    const lag = this.lag;
    let phase = this.phase;
    for (let i = 0; i < n; i++) {
      out[offset + i] = this.cycle[phase]!;
      if (++phase === lag) phase = 0;
    }
    this.phase = phase;
  }

  /**
   * How many more samples of the repetition to play (less than one period) before `next[0, n)` continues it best:
   * where a cross-fade into it adds, rather than cancels.
   */
  alignment(next: Int16Array, n: number): number {
    if (n > MAX_LAG) throw new RangeError(`alignment: n must be at most ${MAX_LAG} (got ${n})`);
    // The repetition from where it stands, a period and n samples of it, without moving on.
    const phase = this.phase;
    this.fill(this.ahead, 0, this.lag + n);
    this.phase = phase;
    let best = 0;
    let bestCorrelation = -Infinity;
    for (let shift = 0; shift < this.lag; shift++) {
      const c = correlation(this.ahead, shift, next, 0, n);
      if (c > bestCorrelation) {
        bestCorrelation = c;
        best = shift;
      }
    }
    return best;
  }

  stop(): void {
    this.lag = 0;
    this.phase = 0;
  }
}
