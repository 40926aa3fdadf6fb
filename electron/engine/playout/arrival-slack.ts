/**
 * Arrival slack: how long before each device pull the packet it plays landed, and whether that is steady enough to
 * play every packet at the first pull after it lands instead of holding a frame back.
 *
 * With frames the size of the pull, a frame held beyond every pull covers a packet up to a whole pull late, and
 * every packet pays that pull in latency. On a clean path packets land at a steady phase against the listener's
 * pulls, set by the two sound cards' clocks and the path: when every packet of the last second landed at least
 * ENTER_MS before its pull, the frame held back protects against nothing that happened, and playout can run on
 * the slack alone (the "low-latency" state). It leaves that state on the first packet that lands with less than
 * EXIT_MS to spare or not at all (the phase drifted towards the pull, the path or the event loop got late), before a
 * packet misses its pull where it can. A packet that did miss it costs one concealed frame (the packet plays after
 * it, a frame later), and doubles the time before the state may be entered again, so a path that keeps failing
 * settles on holding the frame; a miss the speaker caused by catching up after its own underrun does not count.
 *
 * Time is what the caller says it is (the playout buffer's arrival and pull times): no clock is read.
 */

/**
 * Slack every packet of the last ENTER_AFTER_MS must have had before low latency is allowed. Measured between two
 * stations on one sound server, a packet's slack holds within about half a ms of its phase, with dips of up to 2.5 ms
 * every second or two; a speaker underrun moves the phase to somewhere else in the pull.
 */
const ENTER_MS = 2;
/** A packet with less slack than this ends low latency before one arrives too late. */
const EXIT_MS = 0.5;
/**
 * How long the slack must have stayed above ENTER_MS. Short, because the phase moves with every speaker underrun
 * (every few seconds behind ALSA's pulse plugin) and a miss is cheap: the playout conceals one frame in front of the
 * late packet and plays it after (see PlayoutBuffer.produce).
 */
const ENTER_AFTER_MS = 1000;
/** Wait before low latency may come back after a packet missed its pull; doubled on every miss, up to the max. */
const BASE_COOLDOWN_MS = 5000;
const MAX_COOLDOWN_MS = 80_000;
/** Pulls closer together than this are one burst: the speaker refilling its queue after an underrun. */
const BURST_PULL_MS = 2;
/** A packet this late after low latency ended still missed its pull because of it. */
const MISS_BLAME_MS = 100;
/** This long in low latency without a miss forgives earlier misses. */
const FORGIVE_AFTER_MS = 60_000;

export class ArrivalSlack {
  /** Packets landed since the latest pull: how many, the first and the last. */
  private freshCount = 0;
  private freshOldestMs = 0;
  private freshNewestMs = 0;
  /** A packet the latest pull found besides the one it took. */
  private leftOverMs: number | undefined;
  /** Since when every pull found a packet that landed ENTER_MS or more before it. */
  private steadySinceMs: number | undefined;
  private low = false;
  private lowSinceMs = 0;
  /** The pull that ended low latency: a late packet soon after it is one that low latency cost. */
  private leftLowMs = -Infinity;
  private cooldownMs = 0;
  private blockedUntilMs = -Infinity;
  private slackMs = NaN;
  private lastPullMs = -Infinity;

  /** The newest packet of the stream landed. */
  arrived(arrivalMs: number): void {
    if (this.freshCount === 0) this.freshOldestMs = arrivalMs;
    this.freshNewestMs = arrivalMs;
    this.freshCount++;
  }

  /**
   * One device pull while the stream plays. `allowed` says whether the rest of the path permits low latency at all
   * (frames the size of the pull, no loss to wait for FEC on).
   *
   * A pull takes the oldest packet that landed since the pull before. A pull that came a little late finds the
   * next packet too, and leaves it to the pull after, which then finds nothing new and has missed nothing.
   */
  pulled(nowMs: number, allowed: boolean): void {
    this.lastPullMs = nowMs;
    const landed = this.freshCount > 0 || this.leftOverMs !== undefined;
    this.slackMs = this.freshCount > 0 ? nowMs - this.freshOldestMs : this.leftOverMs !== undefined ? nowMs - this.leftOverMs : NaN;
    this.leftOverMs = this.freshCount > 1 ? this.freshNewestMs : undefined;
    this.freshCount = 0;
    if (!landed || this.slackMs < ENTER_MS || !allowed) {
      this.steadySinceMs = undefined;
    } else {
      this.steadySinceMs ??= nowMs;
    }

    if (this.low) {
      if (!landed || this.slackMs < EXIT_MS || !allowed) {
        this.low = false;
        this.leftLowMs = nowMs;
      } else if (this.cooldownMs > 0 && nowMs - this.lowSinceMs >= FORGIVE_AFTER_MS) this.cooldownMs = 0;
      return;
    }
    if (this.steadySinceMs !== undefined && nowMs - this.steadySinceMs >= ENTER_AFTER_MS && nowMs >= this.blockedUntilMs) {
      this.low = true;
      this.lowSinceMs = nowMs;
    }
  }

  /**
   * A pull in low latency found its packet missing (the playout concealed and slips a frame). It ends low latency,
   * and counts against it unless the pull came right on the heels of another: that is the speaker catching up after
   * its own underrun (the bridge refills its queue at once), and the device, not the path, cost the packet.
   */
  missedPull(nowMs: number): void {
    const burst = nowMs - this.lastPullMs < BURST_PULL_MS;
    this.steadySinceMs = undefined;
    this.low = false;
    this.leftLowMs = nowMs;
    if (!burst) this.penalize(nowMs);
  }

  /**
   * A packet arrived after the pull that needed it. In low latency (or just out of it) that is the price of the
   * state: it ends, and comes back only after a cooldown that grows with every miss.
   */
  missed(nowMs: number): void {
    this.steadySinceMs = undefined;
    const recentlyLow = this.low || nowMs - this.leftLowMs <= MISS_BLAME_MS;
    this.low = false;
    if (!recentlyLow) return;
    this.penalize(nowMs);
  }

  private penalize(nowMs: number): void {
    this.cooldownMs = Math.min(MAX_COOLDOWN_MS, this.cooldownMs === 0 ? BASE_COOLDOWN_MS : 2 * this.cooldownMs);
    this.blockedUntilMs = nowMs + this.cooldownMs;
  }

  /** The stream paused or restarted: start measuring afresh, but remember the misses. */
  pause(): void {
    this.low = false;
    this.steadySinceMs = undefined;
    this.freshCount = 0;
    this.leftOverMs = undefined;
    this.slackMs = NaN;
    this.lastPullMs = -Infinity;
  }

  reset(): void {
    this.pause();
    this.leftLowMs = -Infinity;
    this.cooldownMs = 0;
    this.blockedUntilMs = -Infinity;
  }

  get lowLatency(): boolean {
    return this.low;
  }

  /** Slack of the packet the latest pull played (NaN if none landed since the pull before). */
  get latestSlackMs(): number {
    return this.slackMs;
  }
}
