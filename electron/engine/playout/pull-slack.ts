/**
 * How many whole device periods of audio the playout holds beyond what the
 * next pull needs, learned from how early packets actually arrive.
 *
 * Audio is handed to the device in pulls of one period P. A packet is needed
 * by the first pull that reaches its samples; its slack is the time between
 * its arrival and that pull. Extra buffered audio below one period buys no
 * slack at all (the packet is still needed by the same pull), it only adds
 * latency. Each whole extra period adds P of slack. How much slack a packet
 * has without any extra period depends on the phase between the sender's
 * clock and our device's, which no jitter statistic knows: one station may
 * have its packets land 8 ms before our pulls, another 0.5 ms before. So the
 * periods are set from the slack that packets actually had. A stream starts
 * with one extra period (no glitch while nothing is known), sheds it once
 * every packet for a few seconds would still have had enough without it, and
 * gets one more as soon as a packet comes in with too little (or late).
 *
 * Clock drift sweeps the phase through a whole period every P / drift (20 s
 * at 500 ppm), and where the sweep wraps, the level jumps by a frame and a
 * packet can land just before the pull that needs it. So a period is only
 * shed while the slack holds still: the least-squares slope of its
 * per-second minima over the window stays below SHED_MAX_DRIFT, and they
 * span less than half a period (a wrap jumps by most of one). (The minima
 * themselves scatter by a few ms with the jitter of arrivals and device
 * callbacks; a slope over ten of them sees through that, two halves did not.)
 */

/** A packet arriving closer than this to the pull that needs it counts as too close. */
export const SLACK_SAFETY_MS = 1;
/** Shedding a period needs every packet to have kept this much on top of the safety. */
const SHED_MARGIN_MS = 2;
/** Slack minima are taken per bucket of this length... */
const BUCKET_MS = 1000;
/** ...and a period is shed after this many buckets in which every packet had one to spare. */
const SHED_AFTER_BUCKETS = 10;
/** The slack may drift this fast (ms per s; 250 ppm of clock skew) for a period to be shed. */
const SHED_MAX_DRIFT = 0.25;
/** Periods a stream starts with. */
const INITIAL_PERIODS = 1;
/** After adding a period, the level needs a moment to reach it; violations in between are the same shortage. */
const RAISE_REFRACTORY_MS = 500;

export class PullSlack {
  private extra = INITIAL_PERIODS;
  private bucketStartMs: number | undefined;
  private bucketMinSlackMs = Infinity;
  /** Completed buckets since the last change: their middle times and minimum slack. */
  private readonly bucketTimes: number[] = [];
  private readonly bucketMins: number[] = [];
  private raisedAtMs = -Infinity;

  constructor(private readonly maxPeriods: number) {}

  /** Whole periods held beyond what the next pull needs. */
  get periods(): number {
    return this.extra;
  }

  /**
   * The slack a packet had: `slackMs` between its arrival and the pull at `nowMs` that needed it. `floor` is the
   * number of periods held anyway (for jitter): a shortage adds one above it, and shedding never goes below it.
   */
  note(slackMs: number, nowMs: number, pullMs: number, floor: number): void {
    if (slackMs < SLACK_SAFETY_MS) {
      this.raise(nowMs, floor);
      return;
    }
    if (this.bucketStartMs === undefined) this.bucketStartMs = nowMs;
    if (nowMs - this.bucketStartMs >= BUCKET_MS) {
      this.bucketTimes.push((this.bucketStartMs + nowMs) / 2);
      this.bucketMins.push(this.bucketMinSlackMs);
      this.bucketStartMs = nowMs;
      this.bucketMinSlackMs = Infinity;
    }
    if (slackMs < this.bucketMinSlackMs) this.bucketMinSlackMs = slackMs;
    if (this.bucketMins.length < SHED_AFTER_BUCKETS) return;
    const lowest = Math.min(...this.bucketMins);
    const spare = lowest >= pullMs + SLACK_SAFETY_MS + SHED_MARGIN_MS;
    // Still: no drift in the minima, and no wrap of the phase among them (a wrap jumps by most of a period).
    const still = Math.abs(slopePerS(this.bucketTimes, this.bucketMins)) <= SHED_MAX_DRIFT && Math.max(...this.bucketMins) - lowest <= pullMs / 2;
    if (this.extra > floor && spare && still) this.extra--;
    this.restartWindow();
  }

  /** A packet arrived after the pull that needed it had concealed its audio. */
  noteLate(nowMs: number, floor: number): void {
    this.raise(nowMs, floor);
  }

  /** Playout restarted (a talk spurt): the slack of the packets it starts on is the start's waiting, not the phase. */
  interrupt(): void {
    this.restartWindow();
  }

  reset(): void {
    this.extra = INITIAL_PERIODS;
    this.raisedAtMs = -Infinity;
    this.restartWindow();
  }

  private raise(nowMs: number, floor: number): void {
    if (nowMs - this.raisedAtMs < RAISE_REFRACTORY_MS) return;
    this.raisedAtMs = nowMs;
    this.extra = Math.min(this.maxPeriods, Math.max(this.extra, floor) + 1);
    this.restartWindow();
  }

  private restartWindow(): void {
    this.bucketStartMs = undefined;
    this.bucketMinSlackMs = Infinity;
    this.bucketTimes.length = 0;
    this.bucketMins.length = 0;
  }
}

/** Least-squares slope of y over t (ms), in y per second. */
function slopePerS(t: number[], y: number[]): number {
  const n = t.length;
  let st = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    st += t[i] as number;
    sy += y[i] as number;
  }
  const mt = st / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dt = (t[i] as number) - mt;
    num += dt * ((y[i] as number) - my);
    den += dt * dt;
  }
  return den > 0 ? (num / den) * 1000 : 0;
}
