/**
 * Synthetic packet traces for the playout buffer: a sender with its own clock
 * (skewed by ppm) encodes a test signal with the real Opus codec, a network
 * model delays, jitters, loses, reorders and duplicates the packets, and a
 * receiver pulls 10 ms periods on its own clock. Everything is driven by a
 * seeded PRNG, so a trace replays identically.
 */
import { seededRandom } from './seeded-random';
import { OpusDecoder, OpusEncoder, type OpusFrameMs } from '../native/opus/index';
import type { PlayoutBuffer, PlayoutStats, RtpAudioPacket } from '../electron/engine/playout/playout-buffer';
import { SAMPLE_RATE } from '../native/audio-format';

export { SAMPLE_RATE };
export const PULL_SAMPLES = 480;
export const PULL_MS = 10;
export const TONE_AMPLITUDE = 8000;

export type TestSignal = 'tone' | 'harmonics';

/** Sample n of the test signal at the sender: a 440 Hz tone, or a 200 Hz voice-like harmonic series. */
export function signalSample(signal: TestSignal, n: number): number {
  if (signal === 'tone') return TONE_AMPLITUDE * Math.sin((2 * Math.PI * 440 * n) / SAMPLE_RATE);
  let v = 0;
  for (let h = 1; h <= 6; h++) v += Math.sin((2 * Math.PI * 200 * h * n) / SAMPLE_RATE + h) / h;
  return 4000 * v;
}

const encodedCache = new Map<string, Buffer[]>();

/** Opus packets of the signal from its start; cached, as the payloads do not depend on the network. */
export function encodeSignal(signal: TestSignal, frameMs: OpusFrameMs, frames: number): Buffer[] {
  const key = `${signal}/${frameMs}`;
  let packets = encodedCache.get(key);
  if (packets === undefined) {
    packets = [];
    encodedCache.set(key, packets);
  }
  if (packets.length < frames) {
    // Continue the same encoder run: re-encode from the start to keep its state honest.
    const encoder = new OpusEncoder({ frameMs, bitrate: 32000, fec: true, packetLossPercent: 10, complexity: 3 });
    const pcm = new Int16Array(encoder.frameSamples);
    packets.length = 0;
    for (let k = 0; k < frames; k++) {
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(signalSample(signal, k * pcm.length + i));
      packets.push(encoder.encode(pcm));
    }
  }
  return packets;
}

export interface NetworkModel {
  baseDelayMs: number;
  /** Uniform in [0, jitterMs], or Pareto (heavy tail) with that scale. */
  jitterMs: number;
  jitterShape?: 'uniform' | 'pareto';
  lossRate?: number;
  /** Gilbert-Elliott bursts: chance to enter a burst per packet, and mean burst length in packets. */
  burst?: { enterRate: number; meanLength: number };
  duplicateRate?: number;
}

export interface SenderModel {
  signal: TestSignal;
  frameMs: OpusFrameMs;
  durationMs: number;
  /** Sender clock vs receiver clock: +500 means the sender's 48 kHz runs 500 ppm fast. */
  skewPpm?: number;
  startSeq?: number;
  startTimestamp?: number;
  ssrc?: number;
  /** Intervals (sender ms) in which the sender sends nothing; the next packet carries the marker bit. */
  pauses?: { fromMs: number; toMs: number }[];
  /** From this time on the remote restarts: new SSRC, sequence and timestamp base, fresh encoder. */
  ssrcChangeAtMs?: number;
  /** At this time the timestamp jumps ahead by this many samples (sequence numbers stay consecutive). */
  timestampJump?: { atMs: number; samples: number };
}

export interface PacketEvent {
  packet: RtpAudioPacket;
  arrivalMs: number;
  /** Sender ms of the frame's start, for latency checks. */
  sentMs: number;
}

export function makeTrace(sender: SenderModel, network: NetworkModel, seed: number): PacketEvent[] {
  const random = seededRandom(seed);
  const frameSamples = (SAMPLE_RATE / 1000) * sender.frameMs;
  const frames = Math.floor(sender.durationMs / sender.frameMs);
  const payloads = encodeSignal(sender.signal, sender.frameMs, frames);
  const skew = 1 + (sender.skewPpm ?? 0) * 1e-6;
  const events: PacketEvent[] = [];

  let ssrc = sender.ssrc ?? 0x1234abcd;
  let seq = sender.startSeq ?? Math.floor(random() * 65536);
  let ts = sender.startTimestamp ?? Math.floor(random() * 2 ** 32);
  let payloadIndex = 0;
  let paused = false;
  let inBurst = false;
  let restarted = false;
  let jumped = false;

  for (let k = 0; k < frames; k++) {
    const sentMs = k * sender.frameMs;
    if (!restarted && sender.ssrcChangeAtMs !== undefined && sentMs >= sender.ssrcChangeAtMs) {
      restarted = true;
      ssrc = (ssrc + 0x01010101) >>> 0;
      seq = Math.floor(random() * 65536);
      ts = Math.floor(random() * 2 ** 32);
      payloadIndex = 0;
    }
    if (!jumped && sender.timestampJump !== undefined && sentMs >= sender.timestampJump.atMs) {
      jumped = true;
      ts = (ts + sender.timestampJump.samples) >>> 0;
    }
    const inPause = (sender.pauses ?? []).some((p) => sentMs >= p.fromMs && sentMs < p.toMs);
    const payload = payloads[payloadIndex++]!;
    const thisTs = ts;
    ts = (ts + frameSamples) >>> 0;
    if (inPause) {
      paused = true;
      continue;
    }
    const packet: RtpAudioPacket = { seq, timestamp: thisTs, ssrc, marker: paused || k === 0, payload };
    seq = (seq + 1) & 0xffff;
    paused = false;

    if (network.burst !== undefined) {
      inBurst = inBurst ? random() >= 1 / network.burst.meanLength : random() < network.burst.enterRate;
    }
    const lost = inBurst || random() < (network.lossRate ?? 0);
    const departureMs = sentMs / skew;
    if (!lost) events.push({ packet, arrivalMs: departureMs + network.baseDelayMs + jitter(network, random), sentMs });
    if (random() < (network.duplicateRate ?? 0)) {
      events.push({ packet, arrivalMs: departureMs + network.baseDelayMs + jitter(network, random) + 5 * random(), sentMs });
    }
  }
  return events.sort((a, b) => a.arrivalMs - b.arrivalMs);
}

function jitter(network: NetworkModel, random: () => number): number {
  if (network.jitterShape === 'pareto') {
    // Pareto with shape 3, scaled so the median is about jitterMs / 4; capped at 10x.
    return Math.min(10 * network.jitterMs, (network.jitterMs / 5) * (Math.pow(1 - random(), -1 / 3) - 1) * 3);
  }
  return network.jitterMs * random();
}

export interface PullRecord {
  nowMs: number;
  stats: PlayoutStats;
  /** Whether the buffer adjusted the audio in this pull: time-stretch, concealment, FEC or merge. */
  adjusted: boolean;
  /** Largest |x[n] - x[n-1]| in this pull, including the step from the previous pull's last sample. */
  maxStep: number;
  silent: boolean;
}

export interface TraceRun {
  pulls: PullRecord[];
  /** All output, when asked for. */
  output: Int16Array | undefined;
  final: PlayoutStats;
}

/**
 * Replays a trace into a buffer, pulling 10 ms periods on the receiver clock. During `stall` the receiver does not
 * pull at all (a starved process or sound server), while packets keep arriving.
 */
export function runTrace(
  buffer: PlayoutBuffer,
  events: PacketEvent[],
  durationMs: number,
  keepOutput: boolean,
  stall?: { fromMs: number; toMs: number },
): TraceRun {
  const pullCount = Math.floor(durationMs / PULL_MS);
  const output = keepOutput ? new Int16Array(pullCount * PULL_SAMPLES) : undefined;
  const pulls: PullRecord[] = [];
  let next = 0;
  let previousSample = 0;
  let before = buffer.stats();
  for (let i = 0; i < pullCount; i++) {
    const nowMs = i * PULL_MS;
    while (next < events.length && events[next]!.arrivalMs <= nowMs) {
      const e = events[next++]!;
      buffer.insert(e.packet, e.arrivalMs);
    }
    if (stall && nowMs >= stall.fromMs && nowMs < stall.toMs) continue;
    const out = buffer.pull(PULL_SAMPLES, nowMs);
    let maxStep = Math.abs(out[0]! - previousSample);
    let silent = true;
    for (let n = 1; n < out.length; n++) {
      const step = Math.abs(out[n]! - out[n - 1]!);
      if (step > maxStep) maxStep = step;
      if (out[n] !== 0) silent = false;
    }
    previousSample = out[out.length - 1]!;
    output?.set(out, i * PULL_SAMPLES);
    const stats = buffer.stats();
    const adjusted =
      stats.stretchedFrames !== before.stretchedFrames ||
      stats.concealedSamples !== before.concealedSamples ||
      stats.fecRecoveredFrames !== before.fecRecoveredFrames ||
      stats.flushes !== before.flushes;
    pulls.push({ nowMs, stats, adjusted, maxStep, silent });
    before = stats;
  }
  return { pulls, output, final: before };
}

export function opusDecoder(): OpusDecoder {
  return new OpusDecoder();
}
