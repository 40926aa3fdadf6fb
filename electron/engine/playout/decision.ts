/**
 * Decision logic: given what is buffered and what was played last, which
 * operation produces the next audio. Pure functions plus the buffer-level
 * filter; no decoding and no sample processing happen here.
 *
 * Drift handling lives here too. A sender clock up to ±500 ppm off ours adds
 * or removes 0.5 ms of buffered audio per second. The filtered buffer level is
 * held within a small band around the target by time-stretch steps of one
 * pitch period, each bounded so it cannot overshoot the band: corrections are
 * a few ms every few seconds, inaudible, instead of a click when the buffer
 * finally overflows or runs dry.
 */

/** Concealment plays at full gain this long, then fades to silence by CONCEAL_SILENT_MS. */
const CONCEAL_FULL_GAIN_MS = 40;
const CONCEAL_SILENT_MS = 80;
/** Opus DTX frames are at most 2 bytes (TOC only). */
export const DTX_MAX_PAYLOAD_BYTES = 2;

/** What was produced last: decoded audio, concealment, or silence (idle/DTX). */
export type PlayoutMode = 'playing' | 'concealing' | 'silent';

export type FrameOperation =
  /** Decode the head packet. */
  | { op: 'normal' }
  /** Decode the head packet and cross-fade it in after concealment or silence. */
  | { op: 'merge' }
  /** Conceal `samples` (PLC), or recover them from the head packet's in-band FEC. */
  | { op: 'expand'; samples: number; fec: boolean }
  /** The sender paused or the loss is too long: fade out and go silent. */
  | { op: 'fade-out' }
  /** Stay silent. */
  | { op: 'silence' }
  /** Silent and enough is buffered: restart playout at the head packet. */
  | { op: 'start' };

export interface HeadPacket {
  ts: number;
  seq: number;
  marker: boolean;
}

export interface FrameContext {
  mode: PlayoutMode;
  head: HeadPacket | undefined;
  /** Timestamp of the next sample to produce, and the sequence number expected after the last decoded packet. */
  nextTs: number;
  expectedSeq: number;
  frameSamples: number;
  concealedRunMs: number;
  lastDecodedWasDtx: boolean;
  /** Silent mode: enough audio is buffered (or the sender stopped sending) to start at the head packet. */
  readyToStart: boolean;
}

/** Opus PLC and FEC work in multiples of 2.5 ms. */
const GRANULE = 120;
// Shared results: deciding allocates nothing except for an expand.
const NORMAL: FrameOperation = { op: 'normal' };
const MERGE: FrameOperation = { op: 'merge' };
const FADE_OUT: FrameOperation = { op: 'fade-out' };
const SILENCE: FrameOperation = { op: 'silence' };
const START: FrameOperation = { op: 'start' };

export function decideFrame(c: FrameContext): FrameOperation {
  if (c.mode === 'silent') return c.head !== undefined && c.readyToStart ? START : SILENCE;
  const head = c.head;
  if (head !== undefined && head.ts === c.nextTs) return c.mode === 'concealing' ? MERGE : NORMAL;
  if (head === undefined) {
    // Nothing more after a DTX frame is the sender's intended silence, not loss.
    if (c.lastDecodedWasDtx || c.concealedRunMs >= CONCEAL_SILENT_MS) return FADE_OUT;
    return { op: 'expand', samples: c.frameSamples, fec: false };
  }
  // A later packet is waiting. Consecutive sequence numbers (or a talk-spurt
  // marker) across a timestamp gap mean the sender sent nothing in between.
  const pause = head.seq === c.expectedSeq || head.marker;
  if (pause || c.concealedRunMs >= CONCEAL_SILENT_MS) return FADE_OUT;
  const gap = head.ts - c.nextTs;
  const samples = Math.min(c.frameSamples, Math.floor(gap / GRANULE) * GRANULE);
  if (samples === 0) return MERGE;
  return { op: 'expand', samples, fec: gap === samples };
}

/** Gain of concealed audio after `runMs` of continuous concealment. */
export function concealGain(runMs: number): number {
  if (runMs <= CONCEAL_FULL_GAIN_MS) return 1;
  return Math.max(0, 1 - (runMs - CONCEAL_FULL_GAIN_MS) / (CONCEAL_SILENT_MS - CONCEAL_FULL_GAIN_MS));
}

export type StretchOperation = { op: 'accelerate' | 'preemptive-expand'; maxLagMs: number };

/** Shortest stretch step: one period of a 500 Hz voice. */
export const MIN_STRETCH_MS = 2;
/** Longest stretch step: one period of a 100 Hz voice. */
const MAX_STRETCH_MS = 10;
/** The level is left alone within this band around the target (plus a share of the jitter spread). */
const BAND_MS = 2;
/** A step may overshoot the target by this much at most. */
const OVERSHOOT_MS = 3;

/**
 * Whether to time-stretch, given the filtered buffer level and the target.
 * The allowed step grows with the distance from target, so small drift gets
 * small steps and a level far off (after a jitter spike) converges quickly. `floorBandMs` is how far below the
 * target the level may sit: the playout buffer keeps it small, because its target sits just above a whole-pull
 * step and a level under that step gives up a pull's worth of safety (see DelayManager.targetMs).
 */
export function decideStretch(levelMs: number, targetMs: number, jitterSpreadMs: number, floorBandMs = BAND_MS + 0.25 * jitterSpreadMs): StretchOperation | undefined {
  const band = BAND_MS + 0.25 * jitterSpreadMs;
  const excess = levelMs - targetMs;
  if (excess <= band && -excess <= floorBandMs) return undefined;
  // A step down may overshoot no further than the floor band: below it the level gives up safety (in low latency,
  // the floor is an empty buffer, and overshooting it is an underrun).
  const maxLagMs = Math.min(MAX_STRETCH_MS, Math.abs(excess) + (excess > 0 ? Math.min(OVERSHOOT_MS, floorBandMs) : OVERSHOOT_MS));
  if (maxLagMs < MIN_STRETCH_MS) return undefined;
  return { op: excess > 0 ? 'accelerate' : 'preemptive-expand', maxLagMs };
}

/**
 * Smooths the buffer level (ms of audio buffered beyond the current pull),
 * which jumps by a whole frame at every arrival and pull. Time-stretching
 * moves it immediately via shift(), so one step is not taken twice.
 */
export class BufferLevelFilter {
  private valueMs = 0;
  private primed = false;

  constructor(private readonly timeConstantMs: number) {}

  get levelMs(): number {
    return this.valueMs;
  }

  get isPrimed(): boolean {
    return this.primed;
  }

  update(levelMs: number, elapsedMs: number): void {
    if (!this.primed) {
      this.valueMs = levelMs;
      this.primed = true;
      return;
    }
    this.valueMs += (levelMs - this.valueMs) * (1 - Math.exp(-elapsedMs / this.timeConstantMs));
  }

  shift(deltaMs: number): void {
    this.valueMs += deltaMs;
  }

  reset(): void {
    this.primed = false;
    this.valueMs = 0;
  }
}
