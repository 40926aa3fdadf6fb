/**
 * Clock drift: 10 simulated minutes with the sender's clock 500 ppm fast and
 * 500 ppm slow, real Opus, clean LAN. Prints the largest deviation of the
 * playout delay from its target after convergence, for the PlayoutBuffer and
 * for a naive fixed buffer (same start-up, no drift correction) in the same run.
 *
 *   npx tsx bench/drift.ts
 */
import { BufferLevelFilter } from '../electron/engine/playout/decision';
import { PlayoutBuffer, type PlayoutDecoder } from '../electron/engine/playout/playout-buffer';
import { makeTrace, opusDecoder, PULL_MS, PULL_SAMPLES, type PacketEvent } from '../testkit/playout-traces';

const DURATION_MS = 600_000;
const CONVERGED_MS = 30_000;
const FRAME_SAMPLES = 960;
const SAMPLES_PER_MS = 48;

interface DriftResult {
  maxDevMs: number;
  /** Wall time per 10 ms pull, Opus decoding included. */
  pullUs: number;
  concealedFrames: number;
  finalDelayMs: number;
}

/** Pulls through a trace and tracks |delay - target| from convergence until a second before the sender stops. */
function measure(events: PacketEvent[], receiver: { insert(e: PacketEvent): void; pull(nowMs: number): void; delayMs(): number; targetMs(): number; concealedFrames(): number }): DriftResult {
  let next = 0;
  let maxDevMs = 0;
  let finalDelayMs = 0;
  let pullMs = 0;
  let pulls = 0;
  for (let nowMs = 0; nowMs < DURATION_MS - 1000; nowMs += PULL_MS) {
    while (next < events.length && events[next]!.arrivalMs <= nowMs) receiver.insert(events[next++]!);
    const started = performance.now();
    receiver.pull(nowMs);
    pullMs += performance.now() - started;
    pulls++;
    if (nowMs >= CONVERGED_MS) {
      finalDelayMs = receiver.delayMs();
      maxDevMs = Math.max(maxDevMs, Math.abs(finalDelayMs - receiver.targetMs()));
    }
  }
  return { maxDevMs, pullUs: (pullMs * 1000) / pulls, concealedFrames: receiver.concealedFrames(), finalDelayMs };
}

function adaptive(events: PacketEvent[]): DriftResult {
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  return measure(events, {
    insert: (e) => buffer.insert(e.packet, e.arrivalMs),
    pull: (nowMs) => buffer.pull(PULL_SAMPLES, nowMs),
    delayMs: () => buffer.stats().currentDelayMs,
    targetMs: () => buffer.stats().targetDelayMs,
    concealedFrames: () => buffer.stats().concealedFrames,
  });
}

/**
 * The naive baseline: waits for the same target once, then plays packets in
 * sequence order, concealing what is missing and dropping what comes too late,
 * without ever stretching. Its level is measured like the PlayoutBuffer's.
 */
function naive(events: PacketEvent[], targetMs: number): DriftResult {
  const decoder: PlayoutDecoder = opusDecoder();
  const packets = new Map<number, Uint8Array>();
  const level = new BufferLevelFilter(300);
  let pending = new Int16Array(0);
  let nextSeq: number | undefined;
  let concealed = 0;
  const bufferedSamples = () => pending.length + packets.size * FRAME_SAMPLES;
  return measure(events, {
    insert: (e) => {
      if (nextSeq === undefined || e.packet.seq >= nextSeq) packets.set(e.packet.seq, e.packet.payload);
    },
    pull: () => {
      if (nextSeq === undefined) {
        if (bufferedSamples() < PULL_SAMPLES + targetMs * SAMPLES_PER_MS) return;
        nextSeq = Math.min(...packets.keys());
      }
      while (pending.length < PULL_SAMPLES) {
        const payload = packets.get(nextSeq);
        packets.delete(nextSeq);
        const pcm = payload === undefined ? decoder.conceal(FRAME_SAMPLES) : decoder.decode(payload);
        if (payload === undefined) concealed++;
        const joined = new Int16Array(pending.length + pcm.length);
        joined.set(pending);
        joined.set(pcm, pending.length);
        pending = joined;
        nextSeq++;
      }
      pending = pending.subarray(PULL_SAMPLES);
      for (const seq of packets.keys()) if (seq < nextSeq) packets.delete(seq);
      level.update(bufferedSamples() / SAMPLES_PER_MS, PULL_MS);
    },
    delayMs: () => level.levelMs,
    targetMs: () => targetMs,
    concealedFrames: () => concealed,
  });
}

export interface DriftBench {
  bench: 'drift';
  plus500_max_dev_ms: number;
  minus500_max_dev_ms: number;
  naive_plus500_max_dev_ms: number;
  naive_minus500_max_dev_ms: number;
}

export function runDriftBench(log: (line: string) => void = console.log): DriftBench {
  const round = (ms: number) => Math.round(ms * 100) / 100;
  const results: Record<string, number> = {};
  for (const skewPpm of [500, -500]) {
    // Sequence numbers start low and never wrap in 10 minutes, so the naive buffer can use them as they are.
    const events = makeTrace({ signal: 'tone', frameMs: 20, durationMs: DURATION_MS, skewPpm, startSeq: 0 }, { baseDelayMs: 20, jitterMs: 2 }, 3);
    const ours = adaptive(events);
    const baseline = naive(events, 22);
    const label = skewPpm > 0 ? 'plus500' : 'minus500';
    log(
      `${skewPpm > 0 ? '+' : ''}${skewPpm} ppm: adaptive max dev ${ours.maxDevMs.toFixed(2)} ms (concealed ${ours.concealedFrames} frames, ${ours.pullUs.toFixed(1)} us per pull), ` +
        `naive max dev ${baseline.maxDevMs.toFixed(2)} ms (concealed ${baseline.concealedFrames} frames, final level ${baseline.finalDelayMs.toFixed(1)} ms), ` +
        `ratio naive/adaptive ${(baseline.maxDevMs / ours.maxDevMs).toFixed(1)}`,
    );
    results[label] = round(ours.maxDevMs);
    results[`naive_${label}`] = round(baseline.maxDevMs);
  }
  const summary: DriftBench = {
    bench: 'drift',
    plus500_max_dev_ms: results.plus500!,
    minus500_max_dev_ms: results.minus500!,
    naive_plus500_max_dev_ms: results.naive_plus500!,
    naive_minus500_max_dev_ms: results.naive_minus500!,
  };
  log(JSON.stringify(summary));
  return summary;
}

if (require.main === module) runDriftBench();
