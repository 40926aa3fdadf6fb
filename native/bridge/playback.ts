import type { RingStats } from './binding';
import { BridgeError } from './errors';
import { DeviceStream } from './device-stream';
import type { ChunkMs } from './native-stream';
import { SpeakerMargin, type MarginReading } from './speaker-margin';

/** What the speaker plays. Called on the device clock; it must answer at once (concealment or silence if it has nothing). */
export interface PlaybackSource {
  pull(samples: number): Int16Array;
  /**
   * Whether `samples` more than real time can be pulled now without inventing audio. A source that says no starts
   * building that much (a playout stretches what it holds) and is asked again at the next top-up.
   */
  prepareAhead?(samples: number): boolean;
}

export interface PlaybackOptions {
  deviceId: string | null;
  sampleRate?: number;
  chunkMs?: ChunkMs;
  /**
   * Chunks kept queued ahead of the device at first (default 2); the queue then follows what the device and the
   * scheduler do (SpeakerMargin). Each chunk is chunkMs of latency, and the queue is how long the thread that tops it
   * up may be late before the speaker plays silence.
   */
  queueChunks?: number;
  /**
   * How long after the device takes a chunk the next one is pulled from the source (default 0). The chunk still
   * reaches the device in time (the queue holds another), and audio that arrives meanwhile (a network packet landing
   * just after the device's tick) makes this chunk instead of waiting a whole chunk for the next. It costs a timer per
   * chunk: on a busy event loop timers fire late and the device runs dry (with half a chunk, the control-flood test
   * heard 30 to 50 silent 10 ms frames), so it is off unless asked for.
   */
  pullDelayMs?: number;
  source: PlaybackSource;
}

export interface PlaybackCounters {
  chunks: number;
  /** Device callbacks that found the queue short and played silence, or host-API underflows. */
  underruns: number;
  /** Of those, the underflows the host API reported itself (its own buffer ran dry, not our queue). */
  deviceUnderflows: number;
  /** The longest a device tick waited for the event loop, ms. */
  maxTickLatencyMs: number;
  /** The most one device callback asked for, frames. */
  maxRequestFrames: number;
  /** What the device (the sound server) buffers beyond our queue now, ms; null where the host API does not say. */
  deviceBufferMs: number | null;
}

/** Ring size: room for the deepest margin the speaker may grow to. */
const RING_CHUNKS = 16;
/**
 * A stream's start-up, covered as a known busy moment: how long, and the drain the margin holds meanwhile, and keeps
 * after as far as it was seen (a tick that came late while the stream started comes late again later).
 */
const STARTUP_MS = 1500;
const STARTUP_DRAIN_MS = 20;
/** A rise waits this long at most for its source to hold the audio; then the source conceals it. */
const RISE_WAIT_MS = 250;


/**
 * A speaker driven by the device clock: every time the device takes a chunk, the bridge tops its queue up from
 * the source. The device callback never waits for the engine: a short queue plays out as silence, counted.
 */
export class PlaybackStream extends DeviceStream {
  readonly counters: PlaybackCounters = { chunks: 0, underruns: 0, deviceUnderflows: 0, maxTickLatencyMs: 0, maxRequestFrames: 0, deviceBufferMs: null };
  private readonly chunk: Int16Array;
  /** What the ring holds at most, samples. */
  private readonly capacitySamples: number;
  private readonly margin: SpeakerMargin;
  /** What the queue held after the latest top-up. */
  private filledTo = 0;
  private ownUnderruns = 0;
  private readonly pullDelayMs: number;
  private delayed: NodeJS.Timeout | undefined;
  private longestTickWaitMs = 0;
  /**
   * What the queue may be filled to (NaN before the first top-up): the margin's fill target, reached on a rise only as
   * the source holds audio. Below zero while a sound server holds a depth it was newly granted (takeDeviceDeepening).
   */
  private allowedTo = NaN;
  /** Since when a rise of the queue has waited for its source (NaN: none waits). */
  private riseWaitingSince = NaN;
  /** What the device (a sound server) buffers beyond the ring, samples (NaN: it does not say). */
  private deviceBuffer = NaN;
  /** What the device asked for and the ring has not yet given, samples (deviceOwedFrames). */
  private deviceOwed = 0;

  constructor(private readonly options: PlaybackOptions) {
    // Checked before super() opens the device, so a bad option leaves nothing open.
    const pullDelayMs = checkPullDelay(options);
    const queueChunks = options.queueChunks ?? 2;
    const ringChunks = Math.max(RING_CHUNKS, queueChunks + 1);
    super('output', options.deviceId, options.sampleRate, options.chunkMs, ringChunks);
    this.pullDelayMs = pullDelayMs;
    this.chunk = new Int16Array(this.chunkSamples);
    this.capacitySamples = ringChunks * this.chunkSamples;
    this.margin = new SpeakerMargin({
      sampleRate: options.sampleRate ?? 48000,
      chunkSamples: this.chunkSamples,
      capacitySamples: this.capacitySamples,
      initialSamples: queueChunks * this.chunkSamples,
    });
    // Its first moments are the device's start-up, not what the machine does in steady state.
    this.margin.expectBusy(STARTUP_DRAIN_MS, STARTUP_MS, performance.now(), STARTUP_DRAIN_MS);
    this.topUp();
    this.begin();
  }

  /**
   * The longest a device tick waited for the event loop since the last call, ms: whether underruns in that time
   * were the engine's (a tick waited about a queue's length) or the device's.
   */
  takeLongestTickWaitMs(): number {
    const ms = this.longestTickWaitMs;
    this.longestTickWaitMs = 0;
    return ms;
  }

  /** The thread that tops this speaker up will be busy for a known reason: see SpeakerMargin.expectBusy. */
  expectBusy(drainMs: number, forMs: number): void {
    this.margin.expectBusy(drainMs, forMs, performance.now());
  }

  /** The queue the speaker keeps now and the drain it covers. */
  marginReading(): MarginReading {
    return this.margin.reading();
  }

  protected service(stats: RingStats): void {
    this.counters.underruns = stats.underruns + stats.xruns;
    this.counters.deviceUnderflows = stats.xruns;
    this.counters.deviceBufferMs = stats.deviceLatencyMs ?? null;
    this.counters.maxTickLatencyMs = Math.max(this.counters.maxTickLatencyMs, stats.tickLatencyMs);
    this.counters.maxRequestFrames = Math.max(this.counters.maxRequestFrames, stats.maxRequest);
    const deepened = this.takeDeviceDeepening(stats.deviceLatencyMs);
    this.deviceOwed = stats.deviceOwedFrames ?? 0;
    const underran = stats.underruns > this.ownUnderruns;
    // While the device takes a new depth the ring is emptied by it, not drained by the clock: no drain to learn.
    if (underran || (deepened === 0 && this.deviceOwed === 0)) this.margin.observe(this.filledTo, stats.lowWater, underran, performance.now());
    this.ownUnderruns = stats.underruns;
    this.longestTickWaitMs = Math.max(this.longestTickWaitMs, stats.tickLatencyMs);
    if (this.pullDelayMs === 0) this.topUp();
    else this.delayed ??= setTimeout(() => ((this.delayed = undefined), this.topUp()), this.pullDelayMs);
  }

  /**
   * Fills the queue to the margin, and on a rise only with audio the source holds: a rise adds delay, and the audio
   * for it must come from somewhere. Pulled at once it is concealment in every playout that holds no frame beyond the
   * pull; a playout asked ahead stretches real audio instead.
   */
  private topUp(): void {
    const now = performance.now();
    const target = this.margin.fillTarget(now);
    if (Number.isNaN(this.allowedTo) || target <= this.allowedTo) this.allowedTo = target;
    this.fillTo(this.allowedTo);
    // Asked after the regular pulls: what the source holds beyond them is what a rise may take.
    if (target > this.allowedTo && this.mayRise(now)) {
      this.allowedTo = Math.min(target, this.allowedTo + this.chunkSamples);
      this.fillTo(this.allowedTo);
    }
    if (this.deviceOwed > 0) this.pa.serveOwed?.(this.handle);
  }

  /**
   * How much deeper the device's own buffer became since the previous tick, samples. A sound server that deepens its
   * buffer (after an underflow) asks for the added depth at once. Refilled at once, that is an early pull of the
   * mixer for audio no playout holds yet: so the queue gives it up (the device holds it now, and covers as much of a
   * late tick) and builds it back as a rise.
   */
  private takeDeviceDeepening(deviceLatencyMs: number | undefined): number {
    const now = deviceLatencyMs === undefined ? NaN : Math.round((deviceLatencyMs * (this.options.sampleRate ?? 48000)) / 1000);
    const deepened = now > this.deviceBuffer ? now - this.deviceBuffer : 0;
    this.deviceBuffer = now;
    if (deepened > 0 && !Number.isNaN(this.allowedTo)) this.allowedTo -= deepened;
    return deepened;
  }

  /**
   * Tops the queue up to `level`, counting what the device still waits for (deviceOwed) as already taken, but never
   * beyond what the ring holds: a sound server that asks for more than that after a long stall gets the rest at its
   * next request. A ring that takes nothing ends the top-up, so it can never spin.
   */
  private fillTo(level: number): void {
    const target = Math.min(level + this.deviceOwed, this.capacitySamples);
    let fill = this.pa.fill(this.handle);
    while (this.running && fill + this.chunkSamples <= target) {
      const pcm = this.options.source.pull(this.chunkSamples);
      this.chunk.set(pcm.length > this.chunkSamples ? pcm.subarray(0, this.chunkSamples) : pcm);
      if (pcm.length < this.chunkSamples) this.chunk.fill(0, pcm.length);
      const taken = this.pa.write(this.handle, this.chunk);
      this.counters.chunks++;
      fill = this.pa.fill(this.handle);
      if (taken === 0) break;
    }
    this.filledTo = fill;
  }

  private mayRise(now: number): boolean {
    const prepare = this.options.source.prepareAhead;
    if (prepare === undefined || prepare.call(this.options.source, this.chunkSamples)) {
      this.riseWaitingSince = NaN;
      return true;
    }
    if (Number.isNaN(this.riseWaitingSince)) this.riseWaitingSince = now;
    if (now - this.riseWaitingSince < RISE_WAIT_MS) return false;
    this.riseWaitingSince = NaN;
    return true;
  }

  override async stop(): Promise<'stopped' | 'abandoned'> {
    clearTimeout(this.delayed);
    return super.stop();
  }
}

/** The pull may wait at most half the queue: the other half is the margin against a busy event loop. */
function checkPullDelay(options: PlaybackOptions): number {
  const chunkMs = options.chunkMs ?? 10;
  const pullDelayMs = options.pullDelayMs ?? 0;
  const queueMs = (options.queueChunks ?? 2) * chunkMs;
  if (!Number.isFinite(pullDelayMs) || pullDelayMs < 0 || pullDelayMs > queueMs / 2) {
    throw new BridgeError('unsupported-format', `pullDelayMs: ${pullDelayMs} must be between 0 and half the queue (${queueMs / 2} ms)`, 'pullDelayMs');
  }
  return pullDelayMs;
}
