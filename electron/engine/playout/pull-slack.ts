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
 * shed while the slack holds still: its minimum moved less than
 * SHED_MAX_DRIFT between the two halves of the window.
 */

/** A packet arriving closer than this to the pull that needs it counts as too close. */
export const SLACK_SAFETY_MS = 1;
/** Shedding a period needs every packet to have kept this much on top of the safety. */
const SHED_MARGIN_MS = 2;
/** How long every packet must have had a period to spare before one is shed. */
const SHED_AFTER_MS = 3000;
/** The slack's minimum may move this fast (ms per s, i.e. 100 ppm of clock drift) for a period to be shed. */
const SHED_MAX_DRIFT = 0.1;
/** Periods a stream starts with. */
const INITIAL_PERIODS = 1;
/** After adding a period, the level needs a moment to reach it; violations in between are the same shortage. */
const RAISE_REFRACTORY_MS = 500;

export class PullSlack {
  private extra = INITIAL_PERIODS;
  private windowStartMs: number | undefined;
  private windowMinSlackMs = Infinity;
  /** The minimum over the first half of the window, once it is over. */
  private firstHalfMinSlackMs: number | undefined;
  private secondHalfMinSlackMs = Infinity;
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
    if (this.windowStartMs === undefined) this.windowStartMs = nowMs;
    if (this.firstHalfMinSlackMs === undefined && nowMs - this.windowStartMs >= SHED_AFTER_MS / 2) {
      this.firstHalfMinSlackMs = this.windowMinSlackMs;
      this.secondHalfMinSlackMs = Infinity;
    }
    if (slackMs < this.windowMinSlackMs) this.windowMinSlackMs = slackMs;
    if (slackMs < this.secondHalfMinSlackMs) this.secondHalfMinSlackMs = slackMs;
    if (nowMs - this.windowStartMs < SHED_AFTER_MS) return;
    const driftMsPerS = Math.abs(this.secondHalfMinSlackMs - (this.firstHalfMinSlackMs ?? this.secondHalfMinSlackMs)) / (SHED_AFTER_MS / 2000);
    if (this.extra > floor && this.windowMinSlackMs >= pullMs + SLACK_SAFETY_MS + SHED_MARGIN_MS && driftMsPerS <= SHED_MAX_DRIFT) this.extra--;
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
    this.windowStartMs = undefined;
    this.windowMinSlackMs = Infinity;
    this.firstHalfMinSlackMs = undefined;
    this.secondHalfMinSlackMs = Infinity;
  }
}
