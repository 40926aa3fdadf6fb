/**
 * Delay peaks: packets that arrive far later than the rest, too rarely for the histogram's 95th percentile to see,
 * but often enough to be heard. A busy sender (its thread late for tens of ms every few seconds) or a burst of
 * cross-traffic makes them. Like NetEq's peak detector: once two have come within PEAK_WINDOW_MS, the target covers
 * the highest of them, until none has come for that long.
 *
 * Time is the arrivals' own: no clock is read.
 */

/** A packet this far above the fastest transit, and PEAK_ABOVE_SPREAD_MS above the usual spread, is a peak. */
const PEAK_MIN_MS = 10;
const PEAK_ABOVE_SPREAD_MS = 5;
/** Later than this is an outage (a link cut, a stalled process), which the playout catches up from, not jitter. */
const PEAK_MAX_MS = 150;
/** Peaks count together within this long, and the target covers them for as long after the last. */
const PEAK_WINDOW_MS = 30_000;
const MAX_PEAKS = 16;

export class DelayPeaks {
  private readonly atMs: number[] = [];
  private readonly heightMs: number[] = [];
  private latestMs = -Infinity;
  /** The previous packet was late too: the packets held up with a late one are one peak, the first the highest. */
  private inPeak = false;

  /** One packet's delay above the fastest transit lately, and the usual spread of it (95th percentile). */
  observe(relativeMs: number, spreadMs: number, arrivalMs: number): void {
    this.latestMs = arrivalMs;
    const late = relativeMs >= Math.max(PEAK_MIN_MS, spreadMs + PEAK_ABOVE_SPREAD_MS);
    const first = late && !this.inPeak;
    this.inPeak = late;
    // A run that starts beyond PEAK_MAX_MS is an outage, and the backlog it left is not peaks of its own.
    if (!first || relativeMs > PEAK_MAX_MS) return;
    this.atMs.push(arrivalMs);
    this.heightMs.push(relativeMs);
    if (this.atMs.length > MAX_PEAKS) {
      this.atMs.shift();
      this.heightMs.shift();
    }
  }

  /** The delay the target must cover for the peaks of the last PEAK_WINDOW_MS, or 0 while they are not a pattern. */
  get coverMs(): number {
    let count = 0;
    let highest = 0;
    for (let i = 0; i < this.atMs.length; i++) {
      if (this.latestMs - this.atMs[i]! > PEAK_WINDOW_MS) continue;
      count++;
      highest = Math.max(highest, this.heightMs[i]!);
    }
    return count >= 2 ? highest : 0;
  }

  reset(): void {
    this.atMs.length = 0;
    this.heightMs.length = 0;
    this.latestMs = -Infinity;
    this.inPeak = false;
  }
}
