/**
 * Network delay estimation: how much audio must wait in the buffer so that
 * (almost) every packet arrives before it is due.
 *
 * Like NetEq, each packet's "relative arrival delay" is its transit time
 * (arrival minus send time, both in ms) above the fastest transit seen in the
 * last two seconds. The two-second window keeps the clock skew between sender
 * and receiver (at most 1 ms per 2 s at 500 ppm) from masquerading as jitter.
 * Relative delays feed a histogram with exponential forgetting; the target
 * delay is one packet frame (the floor on a clean network) plus its 95th
 * percentile.
 */
import { DelayPeaks } from './delay-peaks';

const WINDOW_MS = 2000;
/** Ring capacity: two seconds of 2.5 ms packets. */
const WINDOW_CAPACITY = 1024;
const QUANTILE = 0.95;
/** Per-packet forgetting: a memory of roughly 1400 packets (28 s of 20 ms frames). */
const FORGET_FACTOR = 0.9993;
/** A transit jump this large is a timestamp discontinuity, not network delay. */
const DISCONTINUITY_MS = 1000;
/** Recent loss from which waiting for FEC pays off. */
const FEC_LOSS_RATE = 0.01;
/** Kept above the whole-pull step the target sits on: the level is steered within a band around it. */
export const TARGET_MARGIN_MS = 2;
/** RFC 3550 interarrival jitter gain. */
const JITTER_GAIN = 1 / 16;

export class DelayManager {
  /** Histogram of relative arrival delay in 1 ms buckets; the last bucket collects everything above. */
  private readonly histogram: Float64Array;
  private histogramWeight = 0;
  private packetsSeen = 0;
  private readonly windowArrivalMs = new Float64Array(WINDOW_CAPACITY);
  private readonly windowTransitMs = new Float64Array(WINDOW_CAPACITY);
  private windowStart = 0;
  private windowCount = 0;
  private lastTransitMs: number | undefined;
  private interarrivalJitterMs = 0;
  private spreadMs = 0;
  private readonly peaks = new DelayPeaks();

  constructor(
    private readonly minDelayMs: number,
    private readonly maxDelayMs: number,
  ) {
    this.histogram = new Float64Array(Math.ceil(maxDelayMs) + 1);
  }

  /**
   * Records one packet. `realign` (a talk-spurt start) forgets the transit
   * baseline, so a sender that paused its clock is not mistaken for delay.
   */
  update(sendMs: number, arrivalMs: number, realign: boolean): void {
    const transit = arrivalMs - sendMs;
    if (this.lastTransitMs !== undefined) {
      const d = transit - this.lastTransitMs;
      if (Math.abs(d) > DISCONTINUITY_MS) realign = true;
      else this.interarrivalJitterMs += (Math.abs(d) - this.interarrivalJitterMs) * JITTER_GAIN;
    }
    this.lastTransitMs = transit;
    if (realign) this.windowCount = 0;

    while (this.windowCount > 0 && (this.windowCount === WINDOW_CAPACITY || this.windowArrivalMs[this.windowStart]! < arrivalMs - WINDOW_MS)) {
      this.windowStart = (this.windowStart + 1) % WINDOW_CAPACITY;
      this.windowCount--;
    }
    const slot = (this.windowStart + this.windowCount) % WINDOW_CAPACITY;
    this.windowArrivalMs[slot] = arrivalMs;
    this.windowTransitMs[slot] = transit;
    this.windowCount++;

    let fastest = Infinity;
    for (let i = 0; i < this.windowCount; i++) {
      const t = this.windowTransitMs[(this.windowStart + i) % WINDOW_CAPACITY]!;
      if (t < fastest) fastest = t;
    }
    this.addToHistogram(transit - fastest);
    this.peaks.observe(transit - fastest, this.spreadMs, arrivalMs);
  }

  /**
   * Target buffer delay in ms (audio buffered beyond each pull) for packets of `frameMs` pulled `pullMs` at a time.
   *
   * A packet is safe if it arrives before the pull that first needs it. With at least L ms buffered beyond every
   * pull, a packet is not needed until the pull after L is used up: it may arrive up to L (rounded down to whole
   * pulls) plus the rest of the current pull late. Buffering that does not reach the next whole pull is latency
   * that buys no safety. So the target is one frame while the jitter spread fits in it (a frame beyond every pull
   * covers any arrival phase), and the spread rounded up to whole pulls beyond that, plus a small margin that keeps
   * the level from dipping under the step. Delay peaks that recur (DelayPeaks) count as spread while they do.
   *
   * In low latency (ArrivalSlack: every packet lately landed well before its pull) nothing is held beyond the pull
   * but the margin: the slack is the safety.
   *
   * Under loss it waits one frame more: then the packet after a lost one, whose in-band FEC carries the lost
   * frame, is usually there in time to recover it instead of concealing.
   */
  targetMs(frameMs: number, recentLossRate: number, pullMs = frameMs, lowLatency = false): number {
    const fecHeadroomMs = recentLossRate >= FEC_LOSS_RATE ? frameMs : 0;
    if (lowLatency && this.allowsLowLatency(frameMs, recentLossRate, pullMs)) return Math.max(this.minDelayMs, TARGET_MARGIN_MS);
    const covered = Math.max(this.spreadMs, this.peaks.coverMs);
    const jitterMs = (covered <= frameMs ? frameMs : pullMs * Math.ceil(covered / pullMs)) + TARGET_MARGIN_MS;
    return Math.min(this.maxDelayMs, Math.max(this.minDelayMs, jitterMs + fecHeadroomMs));
  }

  /**
   * Whether the path permits playing each packet at the first pull after it lands (see ArrivalSlack): frames the
   * size of the pull, no loss worth waiting for FEC on, and no recurring delay peaks. The jitter spread is not asked:
   * it is measured against the sender's timestamps, and a sender and a listener whose sound cards tick together (two
   * streams of one sound server) see a spread of 3 to 4 ms while every packet lands within half a ms of the same
   * slack. The slack itself is what decides.
   */
  allowsLowLatency(frameMs: number, recentLossRate: number, pullMs: number): boolean {
    return frameMs === pullMs && recentLossRate < FEC_LOSS_RATE && this.peaks.coverMs === 0;
  }

  /** The 95th percentile of relative arrival delay: how much of the target is jitter. */
  get jitterSpreadMs(): number {
    return this.spreadMs;
  }

  /** RFC 3550 interarrival jitter in ms. */
  get jitterMs(): number {
    return this.interarrivalJitterMs;
  }

  /** Forgets the transit baseline (new stream) but keeps what was learned about the network. */
  restartStream(): void {
    this.windowCount = 0;
    this.lastTransitMs = undefined;
  }

  reset(): void {
    this.restartStream();
    this.peaks.reset();
    this.histogram.fill(0);
    this.histogramWeight = 0;
    this.packetsSeen = 0;
    this.interarrivalJitterMs = 0;
    this.spreadMs = 0;
  }

  private addToHistogram(relativeMs: number): void {
    // Equal weights until the forgetting factor takes over, so start-up is quick.
    const forget = Math.min(FORGET_FACTOR, this.packetsSeen / (this.packetsSeen + 1));
    this.packetsSeen++;
    const h = this.histogram;
    for (let i = 0; i < h.length; i++) h[i]! *= forget;
    const bucket = Math.min(h.length - 1, Math.max(0, Math.floor(relativeMs)));
    h[bucket]! += 1 - forget;
    this.histogramWeight = this.histogramWeight * forget + (1 - forget);

    const wanted = this.histogramWeight * QUANTILE;
    let below = 0;
    for (let i = 0; i < h.length; i++) {
      const w = h[i]!;
      if (below + w >= wanted) {
        this.spreadMs = i + (w > 0 ? (wanted - below) / w : 0);
        return;
      }
      below += w;
    }
    this.spreadMs = h.length - 1;
  }
}
