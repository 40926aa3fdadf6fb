/**
 * How much a speaker keeps queued ahead of its device, sized from what this machine and device do, the way a playout
 * buffer sizes its target from arrival jitter.
 *
 * Between two top-ups the device drains the queue by whatever it asked for meanwhile: its own request sizes (a sound
 * server asks a few ms at a time, ALSA's pulse plugin in clumps of two or three periods) plus however late the
 * thread that tops up was scheduled. The queue must hold that drain, a chunk (top-ups come in whole chunks) and a
 * little more. The drain is measured at every top-up from the ring's low-water mark; when the queue came within the
 * safety of running short, the margin rises at once to cover that drain, and an underrun raises it by a chunk beyond
 * what was seen. It comes down slowly, and only
 * after a calm of 15 s: a machine that stalled once is likely to stall again.
 */
export interface SpeakerMarginOptions {
  sampleRate: number;
  chunkSamples: number;
  /** The ring's size: the margin never asks for more than it holds less a chunk. */
  capacitySamples: number;
  /**
   * The most the margin may grow to, ms. Default 60: beyond that a stall costs less as a gap than as the delay an
   * intercom would carry for the next 20 s. It covers a sound server's clumps with room for scheduling jitter.
   */
  maxMs?: number;
  /** The queue to start with, before anything was measured. */
  initialSamples: number;
  /** Kept beyond the deepest drain seen. Default 2 ms. */
  safetyMs?: number;
  /** A deeper drain is remembered for this long before the margin may shrink. Default 15 s. */
  holdMs?: number;
  /** How fast the margin shrinks after the hold, in ms per second. Default 2. */
  decayMsPerSecond?: number;
  /** A rise is filled a chunk at a time, at most one chunk per this many ms. Default 20. */
  riseSpacingMs?: number;
}

export interface MarginReading {
  /** What the speaker keeps queued ahead of its device at the most, ms. */
  marginMs: number;
  /** The deepest drain between two top-ups the margin covers now, ms: device requests plus scheduling jitter. */
  drainMs: number;
}

export class SpeakerMargin {
  private readonly chunk: number;
  private readonly safety: number;
  private readonly maxTarget: number;
  private readonly holdMs: number;
  private readonly decayPerMs: number;
  /** The drain the margin covers (samples), and when a drain that deep was last seen. */
  private covered: number;
  private coveredAt = -Infinity;
  private lastUpdate = -Infinity;
  /** A busy moment the owner announced: until then, the margin covers `busyDrain` and learns nothing lasting. */
  private busyUntil = -Infinity;
  private busyDrain = 0;
  /** Drains seen during the busy moment up to this are kept when it ends (expectBusy's `keepUpToMs`), samples. */
  private busyKeep = 0;
  private busySeen = 0;
  /** What the queue may be filled to now (samples; -1 before the first fill), and when it last rose. */
  private fillTo = -1;
  private roseAt = -Infinity;

  constructor(private readonly options: SpeakerMarginOptions) {
    const perMs = options.sampleRate / 1000;
    this.chunk = options.chunkSamples;
    this.safety = Math.round((options.safetyMs ?? 2) * perMs);
    this.maxTarget = Math.min(options.capacitySamples - this.chunk, Math.round((options.maxMs ?? 60) * perMs));
    this.holdMs = options.holdMs ?? 15000;
    this.decayPerMs = ((options.decayMsPerSecond ?? 2) * perMs) / 1000;
    this.covered = Math.max(0, options.initialSamples - this.chunk - this.safety);
  }

  /** The most the queue holds after a top-up, samples. */
  get targetSamples(): number {
    const drain = this.lastUpdate < this.busyUntil ? Math.max(this.covered, this.busyDrain) : this.covered;
    return Math.min(this.maxTarget, Math.max(this.chunk, drain + this.chunk + this.safety));
  }

  /**
   * What the queue may be filled to at this top-up: the target, but a rise only a chunk at a time. Each chunk of a
   * rise is one early pull of the mixer, for audio the playouts must first build by stretching (PlaybackStream asks
   * them ahead); several at once would outrun them.
   */
  fillTarget(nowMs: number): number {
    const target = this.targetSamples;
    if (this.fillTo < 0 || target <= this.fillTo) {
      this.fillTo = target;
    } else if (nowMs - this.roseAt >= (this.options.riseSpacingMs ?? 20)) {
      this.fillTo = Math.min(target, this.fillTo + this.chunk);
      this.roseAt = nowMs;
    }
    return this.fillTo;
  }

  /**
   * The thread that tops the queue up is about to be busy for a known reason (opening the device, a peer's DTLS
   * handshake): cover a drain of `drainMs` until `forMs` from now, or a deeper one seen meanwhile. What happens
   * meanwhile is not taken as what the machine does, except up to `keepUpToMs`: a stream's start-up is the machine
   * at its usual work too, and a late tick seen then is kept (and held, and comes down) like one seen after.
   */
  expectBusy(drainMs: number, forMs: number, nowMs: number, keepUpToMs = 0): void {
    const ongoing = this.lastUpdate < this.busyUntil;
    this.busyDrain = Math.max(ongoing ? this.busyDrain : 0, Math.round((drainMs * this.options.sampleRate) / 1000));
    this.busyKeep = Math.max(ongoing ? this.busyKeep : 0, Math.round((keepUpToMs * this.options.sampleRate) / 1000));
    if (!ongoing) this.busySeen = 0;
    this.busyUntil = Math.max(this.busyUntil, nowMs + forMs);
    this.lastUpdate = Math.max(this.lastUpdate, nowMs);
  }

  /**
   * One top-up's evidence: the queue held `filledTo` after the previous top-up and fell to `lowWater` before this
   * one; `underran` if the device found it short meanwhile.
   */
  observe(filledTo: number, lowWater: number, underran: boolean, nowMs: number): void {
    const drain = underran ? filledTo + this.chunk : Math.max(0, filledTo - lowWater);
    // The margin it started with holds like one that was measured.
    if (this.coveredAt === -Infinity) this.coveredAt = nowMs;
    if (nowMs < this.busyUntil) {
      // A known busy moment: the margin meanwhile covers what it does, and forgets it after (but what it keeps).
      this.busyDrain = Math.max(this.busyDrain, drain);
      this.busySeen = Math.max(this.busySeen, drain);
      this.lastUpdate = nowMs;
      return;
    }
    if (this.busySeen > 0) {
      const kept = Math.min(this.busySeen, this.busyKeep);
      if (kept > this.covered) {
        this.covered = kept;
        this.coveredAt = nowMs;
      }
      this.busySeen = 0;
    }
    // Every rise is delay the playouts must build by stretching before the queue can take it: so the margin rises
    // only when the queue came near running short.
    const nearMiss = underran || lowWater < this.safety;
    if (drain >= this.covered && nearMiss) {
      this.covered = drain;
      this.coveredAt = nowMs;
    } else if (drain >= this.covered - this.safety) {
      // Still in use: hold it.
      this.coveredAt = nowMs;
    } else if (nowMs - this.coveredAt > this.holdMs && this.lastUpdate > -Infinity) {
      this.covered = Math.max(drain, this.covered - this.decayPerMs * (nowMs - Math.max(this.lastUpdate, this.coveredAt + this.holdMs)));
    }
    this.lastUpdate = nowMs;
  }

  reading(): MarginReading {
    const perMs = this.options.sampleRate / 1000;
    return { marginMs: this.targetSamples / perMs, drainMs: this.covered / perMs };
  }
}
