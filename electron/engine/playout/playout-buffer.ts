/**
 * The adaptive playout (jitter) buffer for one remote audio stream, in the
 * spirit of libwebrtc's NetEq: RTP packets go in as they arrive, the mixer
 * pulls exactly the samples of each device period out.
 *
 * Composed of the packet buffer (what arrived), the delay manager (how long to
 * wait), the decision logic (what to do next, including drift control) and the
 * signal processing (time-stretch, merge, fades). It never reads a clock:
 * arrival and pull times are given, so packet traces replay deterministically.
 */
import { ArrivalSlack } from './arrival-slack';
import { PitchRepeat, PITCH_REPEAT_HISTORY } from './pitch-repeat';
import { DelayManager, TARGET_MARGIN_MS } from './delay-manager';
import {
  BufferLevelFilter,
  concealGain,
  decideFrame,
  decideStretch,
  DTX_MAX_PAYLOAD_BYTES,
  MIN_STRETCH_MS,
  type FrameContext,
  type PlayoutMode,
} from './decision';
import { accelerate, applyGainRamp, crossFadeFrom, findPeriod, isQuiet, preemptiveExpand, type PeriodMatch } from './dsp';
import { PacketBuffer } from './packet-buffer';
import { RtpUnwrapper } from './rtp-unwrap';
import { SyncBuffer } from './sync-buffer';
import { SAMPLE_RATE } from '../audio-format';

export interface PlayoutDecoder {
  /** A packet's samples (mono, 48 kHz). */
  decode(payload: Uint8Array): Int16Array;
  /** Recovers the lost frame before nextPayload from its in-band FEC. */
  decodeFec(nextPayload: Uint8Array, samples: number): Int16Array;
  /** Packet loss concealment: exactly `samples` (a multiple of 120). */
  conceal(samples: number): Int16Array;
}

export interface RtpAudioPacket {
  /** uint16 */
  seq: number;
  /** uint32, 48 kHz units */
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Uint8Array;
}

export interface PlayoutOptions {
  sampleRate?: 48000;
  /** A new SSRC (the remote restarted) gets a fresh decoder. */
  createDecoder: () => PlayoutDecoder;
  /** Bounds for the adaptive target delay. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface PlayoutStats {
  /** Audio buffered beyond the current device period (smoothed), ms. */
  currentDelayMs: number;
  targetDelayMs: number;
  /** Each packet plays at the first pull after it lands (see ArrivalSlack), rather than a frame later. */
  lowLatency: boolean;
  /** How long before the latest pull its packet landed, ms (NaN if none did). */
  arrivalSlackMs: number;
  packetsReceived: number;
  /** RFC 3550 cumulative loss: expected minus received. */
  packetsLost: number;
  /** Loss over the last ~200 sequence numbers, 0..1. */
  lossRate: number;
  /** RFC 3550 interarrival jitter, ms. */
  jitterMs: number;
  latePackets: number;
  /** Late packets played anyway, after the concealment that stood in for them (see lateButNext). */
  lateMerged: number;
  /** Pulls that came within half a pull of the previous one: the speaker queueing further ahead of real time. */
  earlyPulls: number;
  duplicatePackets: number;
  concealedSamples: number;
  concealedFrames: number;
  fecRecoveredFrames: number;
  acceleratedSamples: number;
  /** Packets dropped to catch up after a stall left far more buffered than the target (see catchUp). */
  flushedPackets: number;
  flushes: number;
  preemptiveSamples: number;
  stretchedFrames: number;
  /** Packets that arrived after their audio had been concealed or skipped: the buffer ran dry while playing. */
  underruns: number;
  ssrcChanges: number;
  /** Packets the decoder rejected; their audio was concealed. */
  corruptPackets: number;
  state: 'idle' | 'playing' | 'concealing' | 'dtx';
}

export class PlayoutInputError extends TypeError {
  override readonly name = 'PlayoutInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const SAMPLES_PER_MS = SAMPLE_RATE / 1000;
const DEFAULT_MIN_DELAY_MS = 0;
const DEFAULT_MAX_DELAY_MS = 500;
/** Until the first packet is decoded, assume 20 ms frames (WebRTC's default for Opus). */
const DEFAULT_FRAME_SAMPLES = 960;
/** Cross-fade after concealment; also the fade to silence. */
const MERGE_SAMPLES = 240;
/** Buffered audio this far above the target (or twice the target, if more) is a backlog to drop, not to stretch. */
const CATCH_UP_MARGIN_MS = 60;
const LEVEL_TIME_CONSTANT_MS = 300;
/** How long a speaker's ask for audio ahead (prepareAhead) raises the target; each top-up that still waits renews it. */
const AHEAD_ASK_MS = 100;
/** A packet this much older than playout is a sender restart, not a late packet. */
const RESTART_LATENESS_MS = 2000;
/** Sequence numbers remembered for duplicate detection and the recent loss rate. */
const SEQ_HISTORY = 1024;
const LOSS_WINDOW = 200;
/** Newest sequence numbers left out of the loss rate: they may still arrive reordered. */
const LOSS_REORDER_ALLOWANCE = 5;

export class PlayoutBuffer {
  private readonly createDecoder: () => PlayoutDecoder;
  private decoder: PlayoutDecoder;
  private readonly packets: PacketBuffer;
  private readonly delay: DelayManager;
  private readonly slack = new ArrivalSlack();
  private readonly sync = new SyncBuffer(16384, PITCH_REPEAT_HISTORY);
  /** Stands in for a late packet (a slip) without telling the decoder of a loss. */
  private readonly repeat = new PitchRepeat();
  private readonly mergeScratch = new Int16Array(MERGE_SAMPLES);
  private readonly level = new BufferLevelFilter(LEVEL_TIME_CONSTANT_MS);
  private readonly seqUnwrap = new RtpUnwrapper(16);
  private readonly tsUnwrap = new RtpUnwrapper(32);
  private readonly period: PeriodMatch = { lag: 0, correlation: 0 };
  private readonly frameContext: FrameContext = {
    mode: 'silent',
    head: undefined,
    nextTs: 0,
    expectedSeq: 0,
    frameSamples: DEFAULT_FRAME_SAMPLES,
    concealedRunMs: 0,
    lastDecodedWasDtx: false,
    readyToStart: false,
  };

  private ssrc: number | undefined;
  private mode: PlayoutMode = 'silent';
  /** Whether anything has been decoded on this stream yet (silent mode before the first start). */
  private anchored = false;
  private nextTs = 0;
  private expectedSeq = 0;
  private frameSamples = DEFAULT_FRAME_SAMPLES;
  /** The size of the latest pull: how finely the device takes audio. */
  private pullSamples = DEFAULT_FRAME_SAMPLES;
  /** When the previous pull came, and whether this one came early: in a burst right after it (see pull). */
  private lastPullMs = -Infinity;
  private earlyPull = false;
  /** When the newest packet so far landed, and the longest wait for a newer one since takeLongestArrivalGapMs. */
  private newestArrivalMs = NaN;
  private longestArrivalGapMs = 0;
  private concealedRunMs = 0;
  /** The last decoded frame was DTX or near-silent: a following gap is intended silence, reported as 'dtx'. */
  private lastDecodedWasDtx = false;
  /** Audio the speaker asked to take ahead of real time (prepareAhead), held on top of the target until then. */
  private aheadSamples = 0;
  private aheadUntilMs = -Infinity;

  // Sequence history: which extended sequence numbers arrived.
  private readonly seenSeq = new Float64Array(SEQ_HISTORY).fill(-1);
  private firstSeq: number | undefined;
  private firstTs: number | undefined;
  private highestSeq = 0;
  private streamReceived = 0;
  private lostBeforeThisStream = 0;
  /** Loss over the recent sequence window, refreshed when a new highest sequence number arrives. */
  private lossRate = 0;

  private counters = emptyCounters();

  constructor(options: PlayoutOptions) {
    if (typeof options !== 'object' || options === null) throw new PlayoutInputError('options', 'must be an object');
    if (typeof options.createDecoder !== 'function') throw new PlayoutInputError('createDecoder', 'must be a function returning a PlayoutDecoder');
    if (options.sampleRate !== undefined && options.sampleRate !== SAMPLE_RATE) {
      throw new PlayoutInputError('sampleRate', `only ${SAMPLE_RATE} is supported (got ${String(options.sampleRate)})`);
    }
    const minDelayMs = options.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
    const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    if (!Number.isFinite(minDelayMs) || minDelayMs < 0) throw new PlayoutInputError('minDelayMs', `must be a finite number >= 0 (got ${minDelayMs})`);
    if (!Number.isFinite(maxDelayMs) || maxDelayMs < Math.max(minDelayMs, 1)) {
      throw new PlayoutInputError('maxDelayMs', `must be a finite number >= max(minDelayMs, 1) (got ${maxDelayMs})`);
    }
    this.createDecoder = options.createDecoder;
    this.decoder = options.createDecoder();
    this.delay = new DelayManager(minDelayMs, maxDelayMs);
    // Twice the longest wait in 2.5 ms packets: enough for any target, bounded against floods.
    this.packets = new PacketBuffer(Math.ceil((2 * maxDelayMs) / 2.5) + 8);
  }

  /** Adds a packet that arrived at `arrivalMs` (receiver clock). */
  insert(packet: RtpAudioPacket, arrivalMs: number): void {
    checkPacket(packet);
    if (!Number.isFinite(arrivalMs)) throw new PlayoutInputError('arrivalMs', `must be a finite number (got ${String(arrivalMs)})`);

    if (this.ssrc !== undefined && packet.ssrc !== this.ssrc) {
      this.counters.ssrcChanges++;
      this.restartStream(true);
    }
    this.ssrc = packet.ssrc;

    let seq = this.seqUnwrap.unwrap(packet.seq);
    let ts = this.tsUnwrap.unwrap(packet.timestamp);
    if (this.anchored && !this.wasSeen(seq) && ts < this.nextTs - RESTART_LATENESS_MS * SAMPLES_PER_MS) {
      // Timestamps went back by seconds on the same SSRC: the sender restarted its stream.
      this.restartStream(false);
      seq = this.seqUnwrap.unwrap(packet.seq);
      ts = this.tsUnwrap.unwrap(packet.timestamp);
    }

    if (this.wasSeen(seq)) {
      this.counters.duplicatePackets++;
      return;
    }
    const newest = seq > this.highestSeq;
    this.markSeen(seq);
    if (newest) this.lossRate = this.recentLossRate();
    this.counters.packetsReceived++;
    // Relative to the stream's first timestamp: exact, whatever the random RTP base.
    this.firstTs ??= ts;
    this.delay.update((ts - this.firstTs) / SAMPLES_PER_MS, arrivalMs, packet.marker);

    if (this.anchored && ts < this.nextTs) {
      this.counters.underruns++;
      this.slack.missed(arrivalMs);
      if (!this.lateButNext(seq, ts)) {
        // Its audio was concealed or skipped already: the buffer had run dry.
        this.counters.latePackets++;
        return;
      }
      // The path's delay grew: the packet plays after the concealment that stood in for it.
      this.nextTs = ts;
      this.counters.lateMerged++;
    }
    if (newest) {
      this.slack.arrived(arrivalMs);
      this.noteArrival(arrivalMs);
    }
    const dropped = this.packets.insert({ seq, ts, marker: packet.marker, payload: packet.payload, arrivalMs });
    if (dropped < 0) this.counters.duplicatePackets++;
  }

  /**
   * Exactly `samples` of audio for the device period ending at `nowMs`.
   * Silence before the first packet and while idle.
   */
  pull(samples: number, nowMs: number): Int16Array {
    if (!Number.isInteger(samples) || samples <= 0) throw new PlayoutInputError('samples', `must be a positive integer (got ${String(samples)})`);
    if (!Number.isFinite(nowMs)) throw new PlayoutInputError('nowMs', `must be a finite number (got ${String(nowMs)})`);

    this.pullSamples = samples;
    // A pull within half its own length of the previous one is the speaker queueing further ahead (its margin rose, or
    // it refills after an underrun), not time passing: the audio it finds missing is late, not lost.
    this.earlyPull = nowMs - this.lastPullMs < samples / SAMPLES_PER_MS / 2;
    if (this.earlyPull) this.counters.earlyPulls++;
    this.lastPullMs = nowMs;
    const startedSilent = this.mode === 'silent';
    // What an early pull takes from what was buffered (the rest it conceals).
    const takenMs = this.earlyPull ? Math.min(samples / SAMPLES_PER_MS, Math.max(0, this.bufferedMs())) : 0;
    while (this.sync.available < samples) this.produce(samples - this.sync.available, nowMs);
    const out = new Int16Array(samples);
    this.sync.read(out, 0, samples);

    if (this.mode === 'silent') {
      this.level.reset();
      this.slack.pause();
    } else {
      this.slack.pulled(nowMs, this.delay.allowsLowLatency(this.frameSamples / SAMPLES_PER_MS, this.lossRate, samples / SAMPLES_PER_MS));
      // A fresh start re-primes the filter with the level it actually starts from.
      if (startedSilent) this.level.reset();
      // An early pull takes its audio ahead of time at once: the smoothed level drops with it, or it would go on
      // counting that audio as buffered and accelerate away the little that is left.
      else if (this.earlyPull) this.level.shift(-Math.min(takenMs, Math.max(0, this.level.levelMs)));
      this.level.update(this.bufferedMs(), samples / SAMPLES_PER_MS);
    }
    return out;
  }

  /**
   * The speaker wants to queue `samples` more than real time (its margin rose): whether that much is buffered beyond
   * the target's floor now. If not, the target rises by it for a while, and time-stretching builds it from real audio
   * (a pitch period per frame) rather than the early pull concealing it. Silent playout has nothing to invent.
   */
  prepareAhead(samples: number, nowMs: number): boolean {
    if (this.mode === 'silent') return true;
    // What stays after the early pull is what the target holds now (to within its floor band): the rise takes none of
    // the playout's own protection against jitter.
    if (this.bufferedMs() >= samples / SAMPLES_PER_MS + this.baseTargetMs() - TARGET_MARGIN_MS) {
      this.aheadSamples = 0;
      return true;
    }
    this.aheadSamples = samples;
    this.aheadUntilMs = nowMs + AHEAD_ASK_MS;
    return false;
  }

  /** The longest time between two packets, each newer than any before it, since the previous call (ms). */
  takeLongestArrivalGapMs(): number {
    const gap = this.longestArrivalGapMs;
    this.longestArrivalGapMs = 0;
    return gap;
  }

  stats(): PlayoutStats {
    const c = this.counters;
    return {
      currentDelayMs: this.mode === 'silent' ? 0 : this.level.levelMs,
      targetDelayMs: this.targetMs(),
      lowLatency: this.slack.lowLatency,
      arrivalSlackMs: this.slack.latestSlackMs,
      packetsReceived: c.packetsReceived,
      packetsLost: this.lostBeforeThisStream + this.streamLost(),
      lossRate: this.lossRate,
      jitterMs: this.delay.jitterMs,
      latePackets: c.latePackets,
      lateMerged: c.lateMerged,
      earlyPulls: c.earlyPulls,
      duplicatePackets: c.duplicatePackets,
      concealedSamples: c.concealedSamples,
      concealedFrames: c.concealedFrames,
      fecRecoveredFrames: c.fecRecoveredFrames,
      acceleratedSamples: c.acceleratedSamples,
      flushedPackets: c.flushedPackets,
      flushes: c.flushes,
      preemptiveSamples: c.preemptiveSamples,
      stretchedFrames: c.stretchedFrames,
      underruns: c.underruns,
      ssrcChanges: c.ssrcChanges,
      corruptPackets: c.corruptPackets,
      state: this.mode === 'silent' ? (this.lastDecodedWasDtx ? 'dtx' : 'idle') : this.mode,
    };
  }

  /** Back to the freshly constructed state: empty, silent, new decoder, zeroed stats. */
  reset(): void {
    this.restartStream(true);
    this.sync.clear();
    this.ssrc = undefined;
    this.delay.reset();
    this.slack.reset();
    this.counters = emptyCounters();
    this.lostBeforeThisStream = 0;
    this.lastPullMs = -Infinity;
    this.newestArrivalMs = NaN;
    this.longestArrivalGapMs = 0;
  }

  private targetMs(): number {
    const target = this.baseTargetMs();
    return this.aheadSamples > 0 && this.lastPullMs <= this.aheadUntilMs ? target + this.aheadSamples / SAMPLES_PER_MS : target;
  }

  /** The target for the path alone, without audio the speaker asked for ahead. */
  private baseTargetMs(): number {
    return this.delay.targetMs(this.frameSamples / SAMPLES_PER_MS, this.lossRate, this.pullSamples / SAMPLES_PER_MS, this.slack.lowLatency);
  }

  /**
   * A late packet that is the very next one after the last played, in the middle of concealing it: the path's delay
   * grew (the sender's device, the network or our speaker moved by more than the buffer held). Dropped, every packet
   * after it would land as late and be concealed in turn until playout faded out and restarted, 80 ms and more of
   * silence; taken, the gap is what was concealed and the delay grows by it, which the target then covers.
   */
  private lateButNext(seq: number, ts: number): boolean {
    return this.mode === 'concealing' && seq === this.expectedSeq && this.nextTs - ts <= this.concealedRunMs * SAMPLES_PER_MS;
  }

  private noteArrival(arrivalMs: number): void {
    if (!Number.isNaN(this.newestArrivalMs)) this.longestArrivalGapMs = Math.max(this.longestArrivalGapMs, arrivalMs - this.newestArrivalMs);
    this.newestArrivalMs = arrivalMs;
  }

  /** Audio buffered beyond what has been pulled: decoded samples plus packets still to decode. */
  private bufferedMs(): number {
    const ahead = this.packets.samplesAhead(this.nextTs, this.expectedSeq, this.frameSamples);
    return (this.sync.available + ahead) / SAMPLES_PER_MS;
  }

  /** Appends at least some audio to the sync buffer; `needed` is what this pull still lacks. */
  private produce(needed: number, nowMs: number): void {
    if (this.mode !== 'silent') {
      const stale = this.packets.dropBefore(this.nextTs);
      this.counters.latePackets += stale;
    }
    if (this.mode === 'playing') this.catchUp();
    const head = this.packets.head();
    const c = this.frameContext;
    c.mode = this.mode;
    c.head = head;
    c.nextTs = this.nextTs;
    c.expectedSeq = this.expectedSeq;
    c.frameSamples = this.frameSamples;
    c.concealedRunMs = this.concealedRunMs;
    c.lastDecodedWasDtx = this.lastDecodedWasDtx;
    c.readyToStart = this.mode === 'silent' && head !== undefined && this.readyToStart(needed, nowMs);
    const operation = decideFrame(c);
    switch (operation.op) {
      case 'silence':
        this.sync.appendSilence(needed);
        return;
      case 'start':
        this.nextTs = head!.ts;
        this.expectedSeq = head!.seq;
        this.anchored = true;
        // Fade in from silence: a merge with a concealment already faded out.
        this.mode = 'concealing';
        this.concealedRunMs = Infinity;
        return;
      case 'normal':
        this.decodeHead(false);
        this.stretchIfDrifting();
        return;
      case 'merge':
        this.decodeHead(true);
        return;
      case 'expand':
        if (operation.fec) this.recoverFromFec(operation.samples);
        else if (head === undefined && this.slack.lowLatency) {
          // In low latency the packet is late, not lost, far more often than not: conceal without moving past it,
          // so it plays (merged in) when it lands and playout slips back to holding a frame, instead of dropping it
          // and concealing every packet after it that lands just as late.
          this.slack.missedPull(nowMs);
          this.slip(operation.samples);
        } else if (head === undefined && this.earlyPull) {
          // Likewise for a pull that came early: concealing in the next packet's place would leave every packet after
          // it late by as much, concealed in turn until playout fades out and restarts, a gap of tens of ms.
          this.slip(operation.samples);
        } else this.conceal(operation.samples);
        return;
      case 'fade-out':
        this.fadeOut();
        return;
    }
  }

  /**
   * Time-stretching removes at most a pitch period per frame, which is right for drift and jitter but takes seconds
   * to drain a backlog after a stall (the process or the sound server starved for a moment). An intercom must not
   * lag for seconds: far above target, the oldest packets are dropped back to the target and the next one is merged
   * in, as after a loss.
   */
  private catchUp(): void {
    const target = this.targetMs();
    const frameMs = this.frameSamples / SAMPLES_PER_MS;
    if (this.bufferedMs() <= Math.max(2 * target, target + CATCH_UP_MARGIN_MS)) return;
    let dropped = 0;
    // The newest packet always stays: playout goes on from it.
    for (let head = this.packets.head(); head !== undefined && this.packets.size > 1; head = this.packets.head()) {
      const aheadMs = (this.sync.available + this.packets.samplesAhead(head.ts, head.seq, this.frameSamples)) / SAMPLES_PER_MS;
      if (aheadMs <= target + frameMs) break;
      this.packets.popHead();
      dropped++;
    }
    const head = this.packets.head();
    if (dropped === 0 || head === undefined) return;
    this.nextTs = head.ts;
    this.expectedSeq = head.seq;
    this.mode = 'concealing';
    this.concealedRunMs = 0;
    this.counters.flushedPackets += dropped;
    this.counters.flushes++;
    // The smoothed level still holds the backlog just dropped: left as is, it would go on accelerating the little
    // that is left until the buffer ran dry (the stutter after a link cut's burst). It starts again from the level now.
    this.level.reset();
  }

  private readyToStart(needed: number, nowMs: number): boolean {
    const wantSamples = needed + this.targetMs() * SAMPLES_PER_MS;
    if (this.packets.samplesAhead(0, undefined, this.frameSamples) >= wantSamples) return true;
    // Nothing new for longer than the target: the sender stopped, play what there is.
    return nowMs - this.packets.newestArrivalMs() >= this.targetMs() + this.frameSamples / SAMPLES_PER_MS;
  }

  private decodeHead(merge: boolean): void {
    const packet = this.packets.popHead()!;
    // The tail of concealment (or silence) to cross-fade from, taken before the decoder moves on.
    const gain = concealGain(this.concealedRunMs);
    const fromRepeat = merge && gain > 0 && this.repeat.active;
    const fadeFrom = merge && gain > 0 && !fromRepeat ? this.decoder.conceal(MERGE_SAMPLES) : undefined;
    const pcm = this.decodeOrConceal(packet.payload);
    if (fromRepeat) this.handOverFromRepeat(pcm, gain);
    else if (merge) this.mergeIn(pcm, fadeFrom, gain);
    this.repeat.stop();
    this.sync.append(pcm);
    if (pcm.length > 0) this.frameSamples = pcm.length;
    this.nextTs = packet.ts + (pcm.length > 0 ? pcm.length : this.frameSamples);
    this.expectedSeq = packet.seq + 1;
    // After a DTX frame, or a frame of near-silence (a DTX refresh, the end of a
    // talk spurt), an empty buffer means the sender went quiet on purpose.
    this.lastDecodedWasDtx = packet.payload.length <= DTX_MAX_PAYLOAD_BYTES || isQuiet(pcm, 0, pcm.length);
    this.mode = 'playing';
    this.concealedRunMs = 0;
  }

  /** A corrupt packet must not stop the audio path: it is concealed like a lost one. */
  private decodeOrConceal(payload: Uint8Array): Int16Array {
    try {
      return this.decoder.decode(payload);
    } catch {
      return this.concealCorrupt(this.frameSamples);
    }
  }

  private concealCorrupt(samples: number): Int16Array {
    this.counters.corruptPackets++;
    this.counters.concealedFrames++;
    this.counters.concealedSamples += samples;
    return this.decoder.conceal(samples);
  }

  private mergeIn(pcm: Int16Array, fadeFrom: Int16Array | undefined, gain: number): void {
    const n = Math.min(MERGE_SAMPLES, pcm.length);
    if (fadeFrom === undefined) {
      applyGainRamp(pcm, 0, n, 0, 1);
      return;
    }
    applyGainRamp(fadeFrom, 0, n, gain, gain);
    crossFadeFrom(pcm, 0, fadeFrom, n);
  }

  private recoverFromFec(samples: number): void {
    const head = this.packets.head()!;
    const gain = concealGain(this.concealedRunMs);
    const wasConcealing = this.mode === 'concealing';
    const fromRepeat = wasConcealing && gain > 0 && this.repeat.active;
    const fadeFrom = wasConcealing && gain > 0 && !fromRepeat ? this.decoder.conceal(MERGE_SAMPLES) : undefined;
    let pcm: Int16Array;
    try {
      pcm = this.decoder.decodeFec(head.payload, samples);
    } catch {
      pcm = this.concealCorrupt(samples);
    }
    if (fromRepeat) this.handOverFromRepeat(pcm, gain);
    else if (wasConcealing) this.mergeIn(pcm, fadeFrom, gain);
    this.repeat.stop();
    this.sync.append(pcm);
    this.nextTs += samples;
    this.expectedSeq = head.seq;
    this.counters.fecRecoveredFrames++;
    this.mode = 'playing';
    this.concealedRunMs = 0;
  }

  /** `advance` false conceals in front of the next packet rather than in its place (a slip: see produce). */
  private conceal(samples: number, advance = true): void {
    const pcm = this.decoder.conceal(samples);
    const runMs = this.concealedRunMs;
    const ms = samples / SAMPLES_PER_MS;
    applyGainRamp(pcm, 0, pcm.length, concealGain(runMs), concealGain(runMs + ms));
    // The late packet stayed away: the decoder's concealment takes over from the repetition, where they line up.
    if (this.repeat.active) {
      if (concealGain(runMs) > 0) this.handOverFromRepeat(pcm, concealGain(runMs));
      this.repeat.stop();
    }
    this.sync.append(pcm);
    if (advance) this.nextTs += samples;
    this.concealedRunMs = runMs + ms;
    this.mode = 'concealing';
    this.counters.concealedFrames++;
    this.counters.concealedSamples += samples;
  }

  private fadeOut(): void {
    const gain = this.mode === 'concealing' ? concealGain(this.concealedRunMs) : 1;
    if (gain > 0) {
      let pcm: Int16Array;
      if (this.repeat.active) {
        pcm = this.mergeScratch;
        this.repeat.fill(pcm, 0, MERGE_SAMPLES);
      } else pcm = this.decoder.conceal(MERGE_SAMPLES);
      applyGainRamp(pcm, 0, pcm.length, gain, 0);
      this.sync.append(pcm);
      this.counters.concealedSamples += MERGE_SAMPLES;
    }
    this.repeat.stop();
    this.mode = 'silent';
  }

  /**
   * A slip: the pull's packet is late, not lost, and plays after this stand-in. The last pitch period played is
   * repeated, and the decoder hears nothing of it. From concealment already under way (or with too little played
   * to repeat), the decoder's concealment goes on instead.
   */
  private slip(samples: number): void {
    if (!this.repeat.active) {
      const held = this.sync.recent(PITCH_REPEAT_HISTORY);
      if (this.mode !== 'playing' || !this.repeat.begin(this.sync.samples, this.sync.end - held, this.sync.end)) {
        this.conceal(samples, false);
        return;
      }
    }
    const runMs = this.concealedRunMs;
    const ms = samples / SAMPLES_PER_MS;
    this.sync.reserve(samples);
    const at = this.sync.end;
    this.repeat.fill(this.sync.samples, at, samples);
    applyGainRamp(this.sync.samples, at, samples, concealGain(runMs), concealGain(runMs + ms));
    this.sync.setEnd(at + samples);
    this.concealedRunMs = runMs + ms;
    this.mode = 'concealing';
    this.counters.concealedFrames++;
    this.counters.concealedSamples += samples;
  }

  /**
   * Ends a repetition: it plays on (less than a period) to where `pcm` continues it best, then cross-fades into
   * `pcm`, so a waveform shifted against it by the slip does not cancel it in the fade.
   */
  private handOverFromRepeat(pcm: Int16Array, gain: number): void {
    const n = Math.min(MERGE_SAMPLES, pcm.length);
    const extra = this.repeat.alignment(pcm, n);
    if (extra > 0) {
      this.sync.reserve(extra);
      const at = this.sync.end;
      this.repeat.fill(this.sync.samples, at, extra);
      applyGainRamp(this.sync.samples, at, extra, gain, gain);
      this.sync.setEnd(at + extra);
      this.counters.concealedSamples += extra;
    }
    const from = this.mergeScratch;
    this.repeat.fill(from, 0, n);
    applyGainRamp(from, 0, n, gain, gain);
    crossFadeFrom(pcm, 0, from, n);
  }

  /** Drift and target changes: stretch the unplayed audio by one pitch period if the level is off target. */
  private stretchIfDrifting(): void {
    if (!this.level.isPrimed) return;
    const decision = decideStretch(this.level.levelMs, this.targetMs(), this.delay.jitterSpreadMs, TARGET_MARGIN_MS);
    if (decision === undefined) return;
    const sync = this.sync;
    const minLag = MIN_STRETCH_MS * SAMPLES_PER_MS;
    const maxLag = Math.min(Math.floor(decision.maxLagMs * SAMPLES_PER_MS), Math.floor(sync.available / 2));
    if (maxLag < minLag) return;

    const x = sync.samples;
    let lag: number;
    if (isQuiet(x, sync.start, sync.start + 2 * maxLag)) {
      lag = maxLag;
    } else {
      const match = findPeriod(x, sync.start, minLag, maxLag, this.period);
      if (match.correlation < 0.85) return;
      lag = match.lag;
    }
    if (decision.op === 'accelerate') {
      sync.setEnd(accelerate(x, sync.start, sync.end, lag));
      this.counters.acceleratedSamples += lag;
      this.level.shift(-lag / SAMPLES_PER_MS);
    } else {
      sync.reserve(lag);
      const y = sync.samples;
      sync.setEnd(preemptiveExpand(y, sync.start, sync.end, lag));
      this.counters.preemptiveSamples += lag;
      this.level.shift(lag / SAMPLES_PER_MS);
    }
    this.counters.stretchedFrames++;
  }

  /**
   * A new stream (SSRC change, sender restart): drop its packets, forget its
   * sequence space and fade out what is still unplayed.
   */
  private restartStream(newDecoder: boolean): void {
    const unplayed = this.sync.available;
    applyGainRamp(this.sync.samples, this.sync.start, Math.min(unplayed, MERGE_SAMPLES), 1, 0);
    if (unplayed > MERGE_SAMPLES) this.sync.setEnd(this.sync.start + MERGE_SAMPLES);
    if (newDecoder) this.decoder = this.createDecoder();
    this.repeat.stop();
    // An ask for audio ahead was about the stream that ended.
    this.aheadSamples = 0;
    this.lostBeforeThisStream += this.streamLost();
    this.packets.clear();
    this.seqUnwrap.reset();
    this.tsUnwrap.reset();
    this.seenSeq.fill(-1);
    this.firstSeq = undefined;
    this.firstTs = undefined;
    this.highestSeq = 0;
    this.streamReceived = 0;
    this.lossRate = 0;
    this.delay.restartStream();
    this.slack.pause();
    this.level.reset();
    this.mode = 'silent';
    this.anchored = false;
    this.nextTs = 0;
    this.expectedSeq = 0;
    this.frameSamples = DEFAULT_FRAME_SAMPLES;
    this.concealedRunMs = 0;
    this.lastDecodedWasDtx = false;
  }

  private wasSeen(seq: number): boolean {
    return this.seenSeq[seq % SEQ_HISTORY] === seq;
  }

  private markSeen(seq: number): void {
    this.seenSeq[seq % SEQ_HISTORY] = seq;
    this.streamReceived++;
    if (this.firstSeq === undefined || seq < this.firstSeq) this.firstSeq = seq;
    if (seq > this.highestSeq) this.highestSeq = seq;
  }

  private streamLost(): number {
    if (this.firstSeq === undefined) return 0;
    return Math.max(0, this.highestSeq - this.firstSeq + 1 - this.streamReceived);
  }

  private recentLossRate(): number {
    if (this.firstSeq === undefined) return 0;
    const newest = this.highestSeq - LOSS_REORDER_ALLOWANCE;
    const oldest = Math.max(this.firstSeq, newest - LOSS_WINDOW + 1, this.highestSeq - SEQ_HISTORY + 1);
    if (newest < oldest) return 0;
    let missing = 0;
    for (let s = oldest; s <= newest; s++) if (!this.wasSeen(s)) missing++;
    return missing / (newest - oldest + 1);
  }
}

function emptyCounters() {
  return {
    packetsReceived: 0,
    latePackets: 0,
    lateMerged: 0,
    earlyPulls: 0,
    duplicatePackets: 0,
    concealedSamples: 0,
    concealedFrames: 0,
    fecRecoveredFrames: 0,
    acceleratedSamples: 0,
    flushedPackets: 0,
    flushes: 0,
    preemptiveSamples: 0,
    stretchedFrames: 0,
    underruns: 0,
    ssrcChanges: 0,
    corruptPackets: 0,
  };
}

function checkPacket(packet: RtpAudioPacket): void {
  if (typeof packet !== 'object' || packet === null) throw new PlayoutInputError('packet', 'must be an object');
  checkUint('packet.seq', packet.seq, 0xffff);
  checkUint('packet.timestamp', packet.timestamp, 0xffffffff);
  checkUint('packet.ssrc', packet.ssrc, 0xffffffff);
  if (typeof packet.marker !== 'boolean') throw new PlayoutInputError('packet.marker', `must be a boolean (got ${typeof packet.marker})`);
  if (!(packet.payload instanceof Uint8Array)) throw new PlayoutInputError('packet.payload', `must be a Uint8Array (got ${typeof packet.payload})`);
}

function checkUint(field: string, value: unknown, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new PlayoutInputError(field, `must be an integer in 0..${max} (got ${String(value)})`);
  }
}
