/**
 * Opus for the voice path: an encoder with in-band FEC, and a decoder that can
 * conceal or FEC-recover exactly one lost frame (per-frame PLC), which the
 * playout buffer needs and @discordjs/opus cannot do.
 *
 * Options are validated here, so every bad input becomes an OpusError naming
 * the field; the native layer maps libopus failures to the same error codes.
 */
import path from 'node:path';
import { SAMPLE_RATE } from '../audio-format';

export type OpusFrameMs = 2.5 | 5 | 10 | 20 | 40 | 60;
export type OpusApplication = 'voip' | 'audio' | 'lowdelay';
export type OpusErrorCode = 'bad-arg' | 'bad-frame' | 'corrupt-packet' | 'internal';

export interface OpusEncoderOptions {
  /** Only 48000 is supported. */
  sampleRate?: 48000;
  /** Default 1. */
  channels?: 1 | 2;
  frameMs: OpusFrameMs;
  /** Bits per second, 6000..510000. */
  bitrate: number;
  /** In-band forward error correction. */
  fec: boolean;
  /** 0..100: how much loss the encoder should protect against with FEC. Default 0. */
  packetLossPercent?: number;
  /** Discontinuous transmission. Default false. */
  dtx?: boolean;
  /** 0..10. Default libopus's (10). */
  complexity?: number;
  /** Default 'voip'. */
  application?: OpusApplication;
}

export interface OpusDecoderOptions {
  sampleRate?: 48000;
  channels?: 1 | 2;
}

export class OpusError extends Error {
  override readonly name = 'OpusError';
  readonly code: OpusErrorCode;
  readonly field?: string;

  constructor(code: OpusErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

type Handle = { readonly __opaque: unique symbol };

interface NativeOpus {
  createEncoder(channels: number, application: number): Handle;
  encoderSet(handle: Handle, setting: number, value: number): void;
  encode(handle: Handle, pcm: Int16Array): Buffer;
  createDecoder(channels: number): Handle;
  decode(handle: Handle, payload: Uint8Array | null, frameSamples: number, fec: boolean): Int16Array;
  lastPacketDuration(handle: Handle): number;
  packetSamples(payload: Uint8Array): number;
  libopusVersion: string;
}

// Built by `node-gyp rebuild --directory=native/opus` (the root package's install script).
const native = require(path.join(__dirname, 'build', 'Release', 'partyline_opus.node')) as NativeOpus;

export const libopusVersion: string = native.libopusVersion;

/** 2.5 ms at 48 kHz: Opus frame durations are multiples of this. */
const GRANULE_SAMPLES = 120;
/** 120 ms: the longest audio one Opus packet can carry. */
const MAX_PACKET_SAMPLES = 5760;
const FRAME_MS: readonly OpusFrameMs[] = [2.5, 5, 10, 20, 40, 60];
const APPLICATIONS: readonly OpusApplication[] = ['voip', 'audio', 'lowdelay'];
// Must match encoder_set() in src/partyline_opus.c.
const enum EncoderSetting {
  Bitrate = 0,
  Fec = 1,
  PacketLossPercent = 2,
  Dtx = 3,
  Complexity = 4,
}

const NATIVE_CODES: ReadonlySet<string> = new Set<OpusErrorCode>(['bad-arg', 'bad-frame', 'corrupt-packet', 'internal']);

/** Runs a native call, turning its coded Error into an OpusError. */
function callNative<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof OpusError) throw err;
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    throw new OpusError(typeof code === 'string' && NATIVE_CODES.has(code) ? (code as OpusErrorCode) : 'internal', message);
  }
}

function badArg(field: string, expected: string, got: unknown): OpusError {
  return new OpusError('bad-arg', `${field} must be ${expected} (got ${JSON.stringify(got) ?? String(got)})`, field);
}

function checkSampleRate(value: unknown): void {
  if (value !== undefined && value !== SAMPLE_RATE) throw badArg('sampleRate', '48000 (the only supported rate)', value);
}

function checkChannels(value: unknown): 1 | 2 {
  if (value === undefined) return 1;
  if (value !== 1 && value !== 2) throw badArg('channels', '1 or 2', value);
  return value;
}

function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badArg(field, `an integer in ${min}..${max}`, value);
  }
  return value;
}

function checkBool(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw badArg(field, 'true or false', value);
  return value;
}

/** Samples per channel for a PLC or FEC frame: a positive multiple of 2.5 ms, at most 120 ms. */
function checkFrameSamples(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_PACKET_SAMPLES || value % GRANULE_SAMPLES !== 0) {
    throw badArg(field, `a multiple of ${GRANULE_SAMPLES} (2.5 ms) in ${GRANULE_SAMPLES}..${MAX_PACKET_SAMPLES}`, value);
  }
  return value;
}

function checkPayload(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw badArg('payload', 'a Uint8Array', typeof value);
  return value;
}

export class OpusEncoder {
  /** Samples per channel per frame (480 for 10 ms). */
  readonly frameSamples: number;
  readonly channels: 1 | 2;
  readonly #handle: Handle;

  constructor(options: OpusEncoderOptions) {
    if (typeof options !== 'object' || options === null) throw badArg('options', 'an object', options);
    checkSampleRate(options.sampleRate);
    this.channels = checkChannels(options.channels);
    if (!FRAME_MS.includes(options.frameMs)) throw badArg('frameMs', `one of ${FRAME_MS.join(', ')}`, options.frameMs);
    const application = APPLICATIONS.indexOf(options.application ?? 'voip');
    if (application < 0) throw badArg('application', `one of ${APPLICATIONS.join(', ')}`, options.application);
    const bitrate = checkBitrate(options.bitrate);
    const fec = checkBool('fec', options.fec);
    const lossPercent = options.packetLossPercent === undefined ? undefined : checkLossPercent(options.packetLossPercent);
    const dtx = options.dtx === undefined ? undefined : checkBool('dtx', options.dtx);
    const complexity = options.complexity === undefined ? undefined : checkInt('complexity', options.complexity, 0, 10);

    this.frameSamples = (SAMPLE_RATE / 1000) * options.frameMs;
    this.#handle = callNative(() => native.createEncoder(this.channels, application));
    this.#set(EncoderSetting.Bitrate, bitrate);
    this.#set(EncoderSetting.Fec, fec ? 1 : 0);
    if (lossPercent !== undefined) this.#set(EncoderSetting.PacketLossPercent, lossPercent);
    if (dtx !== undefined) this.#set(EncoderSetting.Dtx, dtx ? 1 : 0);
    if (complexity !== undefined) this.#set(EncoderSetting.Complexity, complexity);
  }

  /** Encodes one frame: exactly frameSamples * channels interleaved samples. */
  encode(pcm: Int16Array): Buffer {
    if (!(pcm instanceof Int16Array)) {
      throw new OpusError('bad-frame', `pcm must be an Int16Array of ${this.frameSamples * this.channels} samples`, 'pcm');
    }
    if (pcm.length !== this.frameSamples * this.channels) {
      throw new OpusError('bad-frame', `pcm has ${pcm.length} samples, a frame is ${this.frameSamples * this.channels}`, 'pcm');
    }
    return callNative(() => native.encode(this.#handle, pcm));
  }

  setBitrate(bps: number): void {
    this.#set(EncoderSetting.Bitrate, checkBitrate(bps));
  }

  setFec(on: boolean): void {
    this.#set(EncoderSetting.Fec, checkBool('fec', on) ? 1 : 0);
  }

  setPacketLossPercent(p: number): void {
    this.#set(EncoderSetting.PacketLossPercent, checkLossPercent(p));
  }

  setDtx(on: boolean): void {
    this.#set(EncoderSetting.Dtx, checkBool('dtx', on) ? 1 : 0);
  }

  #set(setting: EncoderSetting, value: number): void {
    callNative(() => native.encoderSet(this.#handle, setting, value));
  }
}

function checkBitrate(value: unknown): number {
  return checkInt('bitrate', value, 6000, 510000);
}

function checkLossPercent(value: unknown): number {
  return checkInt('packetLossPercent', value, 0, 100);
}

export class OpusDecoder {
  readonly channels: 1 | 2;
  readonly #handle: Handle;

  constructor(options: OpusDecoderOptions = {}) {
    if (typeof options !== 'object' || options === null) throw badArg('options', 'an object', options);
    checkSampleRate(options.sampleRate);
    this.channels = checkChannels(options.channels);
    this.#handle = callNative(() => native.createDecoder(this.channels));
  }

  /** Decodes a packet; returns all its samples (interleaved if stereo). */
  decode(payload: Uint8Array): Int16Array {
    const packet = checkPayload(payload);
    return callNative(() => native.decode(this.#handle, packet, 0, false));
  }

  /**
   * Recovers the lost frame that preceded `nextPayload` (`samples` per channel)
   * from the in-band FEC that `nextPayload` carries. If it carries none, libopus
   * conceals instead. Decode `nextPayload` itself with decode() afterwards.
   */
  decodeFec(nextPayload: Uint8Array, samples: number): Int16Array {
    const packet = checkPayload(nextPayload);
    const frameSamples = checkFrameSamples('samples', samples);
    return callNative(() => native.decode(this.#handle, packet, frameSamples, true));
  }

  /** Packet loss concealment for exactly `samples` per channel (a multiple of 2.5 ms). */
  conceal(samples: number): Int16Array {
    const frameSamples = checkFrameSamples('samples', samples);
    return callNative(() => native.decode(this.#handle, null, frameSamples, false));
  }

  /** Samples per channel at 48 kHz that the packet holds. */
  static packetSamples(payload: Uint8Array): number {
    const packet = checkPayload(payload);
    return callNative(() => native.packetSamples(packet));
  }

  /** Samples per channel of the last decode, conceal or FEC recovery. */
  get lastPacketDuration(): number {
    return callNative(() => native.lastPacketDuration(this.#handle));
  }
}
