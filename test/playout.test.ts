/**
 * The playout buffer over synthetic network traces, with the real Opus codec:
 * loss, bursts, jitter with reordering, clock skew, wraps, SSRC changes and
 * talk-spurt gaps. Traces are seeded, so every run replays the same packets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrivalSlack } from '../electron/engine/playout/arrival-slack';
import { PlayoutBuffer, PlayoutInputError, type PlayoutDecoder } from '../electron/engine/playout/playout-buffer';
import { OpusDecoder, OpusEncoder } from '../native/opus/index';
import { silentFrames } from '../testkit/signal';
import {
  makeTrace,
  opusDecoder,
  PULL_MS,
  PULL_SAMPLES,
  runTrace,
  SAMPLE_RATE,
  TONE_AMPLITUDE,
  type NetworkModel,
  type SenderModel,
  type TraceRun,
} from '../testkit/playout-traces';

const CLEAN_LAN: NetworkModel = { baseDelayMs: 20, jitterMs: 2 };

function play(sender: SenderModel, network: NetworkModel, seed = 7, keepOutput = false): TraceRun {
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  return runTrace(buffer, makeTrace(sender, network, seed), sender.durationMs, keepOutput);
}

/** Positive-going zero crossings per second in output[fromMs, toMs): the tone's frequency. */
function frequencyHz(output: Int16Array, fromMs: number, toMs: number): number {
  const from = (fromMs * SAMPLE_RATE) / 1000;
  const to = (toMs * SAMPLE_RATE) / 1000;
  let crossings = 0;
  for (let n = from + 1; n < to; n++) if (output[n - 1]! < 0 && output[n]! >= 0) crossings++;
  return crossings / ((toMs - fromMs) / 1000);
}

function concealedRatio(run: TraceRun, frameMs: number, durationMs: number): number {
  return run.final.concealedFrames / (durationMs / frameMs);
}

/**
 * Output continuity: the largest sample-to-sample step in pulls where the
 * buffer adjusted the audio (stretch, concealment, FEC, merge) against the
 * largest step of the same decoded signal where it did not. A click (a jump
 * to or from zero, a waveform cut) is many times the natural step.
 */
function assertContinuous(run: TraceRun, label: string): void {
  let natural = 0;
  let adjusted = 0;
  let adjustments = 0;
  for (const p of run.pulls) {
    if (p.silent) continue;
    if (p.adjusted) {
      adjusted = Math.max(adjusted, p.maxStep);
      adjustments++;
    } else {
      natural = Math.max(natural, p.maxStep);
    }
  }
  assert.ok(adjustments > 0, `${label}: the trace made the buffer adjust`);
  assert.ok(natural > 300, `${label}: the signal arrived (natural max step ${natural})`);
  assert.ok(adjusted <= 1.5 * natural, `${label}: max step at adjustments ${adjusted} vs natural ${natural}`);
}

test('before the first packet pull returns silence; bad input names the field', () => {
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  const out = buffer.pull(480, 0);
  assert.equal(out.length, 480);
  assert.ok(out.every((s) => s === 0));
  assert.equal(buffer.stats().state, 'idle');
  assert.throws(() => new PlayoutBuffer({} as never), (e: unknown) => e instanceof PlayoutInputError && e.field === 'createDecoder');
  assert.throws(
    () => new PlayoutBuffer({ createDecoder: opusDecoder, minDelayMs: 100, maxDelayMs: 50 }),
    (e: unknown) => e instanceof PlayoutInputError && e.field === 'maxDelayMs',
  );
  const packet = { seq: 70000, timestamp: 0, ssrc: 1, marker: false, payload: new Uint8Array(3) };
  assert.throws(() => buffer.insert(packet, 0), (e: unknown) => e instanceof PlayoutInputError && e.field === 'packet.seq');
  assert.throws(() => buffer.pull(0, 0), (e: unknown) => e instanceof PlayoutInputError && e.field === 'samples');
  assert.throws(() => buffer.insert({ ...packet, seq: 1 }, Number.NaN), (e: unknown) => e instanceof PlayoutInputError && e.field === 'arrivalMs');
});

test('0 % loss on a clean LAN: the tone plays at one frame of delay, no underrun, nothing concealed', () => {
  const durationMs = 20000;
  const run = play({ signal: 'tone', frameMs: 20, durationMs }, CLEAN_LAN, 7, true);
  const s = run.final;
  assert.equal(s.underruns, 0);
  assert.equal(s.concealedFrames, 0);
  assert.equal(s.latePackets, 0);
  assert.equal(s.packetsLost, 0);
  assert.equal(s.state, 'playing');
  assert.ok(s.targetDelayMs >= 20 && s.targetDelayMs <= 25, `target ${s.targetDelayMs} ms: one 20 ms frame plus LAN jitter`);
  assert.ok(Math.abs(frequencyHz(run.output!, 5000, 15000) - 440) <= 1, 'the 440 Hz tone comes out at 440 Hz');
  for (const p of run.pulls.filter((p) => p.nowMs >= 3000)) {
    assert.ok(Math.abs(p.stats.currentDelayMs - p.stats.targetDelayMs) <= 5, `delay ${p.stats.currentDelayMs} vs target ${p.stats.targetDelayMs} at ${p.nowMs} ms`);
  }
});

test('5 and 10 ms packet frames play through 10 ms pulls with a one-frame floor', () => {
  for (const frameMs of [5, 10] as const) {
    const run = play({ signal: 'tone', frameMs, durationMs: 10000 }, CLEAN_LAN, 11, true);
    assert.equal(run.final.underruns, 0, `${frameMs} ms frames: underruns`);
    assert.equal(run.final.concealedFrames, 0, `${frameMs} ms frames: concealed`);
    assert.ok(run.final.targetDelayMs < frameMs + 5, `${frameMs} ms frames: target ${run.final.targetDelayMs} ms`);
    assert.ok(Math.abs(frequencyHz(run.output!, 3000, 9000) - 440) <= 1, `${frameMs} ms frames: tone at 440 Hz`);
  }
});

test('jitter that fits in a frame costs no delay beyond the frame: a frame beyond every pull covers any arrival phase', () => {
  // Uniform jitter of 8 ms on 10 ms frames and pulls: the old rule (frame plus the jitter spread) waited about 18 ms.
  // Packets land 0 to 8 ms before their pull, too close for low latency.
  const run = play({ signal: 'tone', frameMs: 10, durationMs: 20000 }, { baseDelayMs: 22, jitterMs: 8 }, 5, true);
  assert.deepEqual(lowLatencySwitches(run).entered, []);
  const s = run.final;
  assert.ok(s.targetDelayMs >= 10 && s.targetDelayMs <= 13, `target ${s.targetDelayMs} ms`);
  assert.ok(s.currentDelayMs >= 10 && s.currentDelayMs <= 16, `buffered beyond each pull ${s.currentDelayMs} ms`);
  assert.equal(s.latePackets, 0, 'late packets');
  assert.equal(s.concealedFrames, 0, 'concealed frames');
  assert.ok(Math.abs(frequencyHz(run.output!, 3000, 19000) - 440) <= 1, 'tone at 440 Hz');
});

/** The pulls at which low latency was entered and left. */
function lowLatencySwitches(run: TraceRun): { entered: number[]; left: number[] } {
  const entered: number[] = [];
  const left: number[] = [];
  let was = false;
  for (const p of run.pulls) {
    if (p.stats.lowLatency !== was) (p.stats.lowLatency ? entered : left).push(p.nowMs);
    was = p.stats.lowLatency;
  }
  return { entered, left };
}

test('packets that land well before each pull play at the first pull after they land: a frame less delay, nothing concealed', () => {
  // 10 ms frames and pulls; every packet lands 5 to 7 ms before the pull that plays it.
  const run = play({ signal: 'tone', frameMs: 10, durationMs: 20000 }, { baseDelayMs: 23, jitterMs: 2 }, 5, true);
  const at = (ms: number) => run.pulls.find((p) => p.nowMs === ms)!.stats;
  assert.equal(at(500).lowLatency, false, 'not before the slack has been steady for a while');
  assert.ok(at(500).currentDelayMs >= 10, `a frame held beyond the pull at first (${at(500).currentDelayMs} ms)`);
  const { entered, left } = lowLatencySwitches(run);
  assert.equal(entered.length, 1, `entered once (${entered.join(', ')})`);
  assert.ok(entered[0]! >= 1000 && entered[0]! <= 2000, `entered at ${entered[0]} ms`);
  assert.deepEqual(left, [], 'never left');
  for (const p of run.pulls.filter((p) => p.nowMs >= 6000)) {
    assert.ok(p.stats.arrivalSlackMs >= 5 && p.stats.arrivalSlackMs <= 7, `slack ${p.stats.arrivalSlackMs} ms at ${p.nowMs}`);
    assert.ok(p.stats.currentDelayMs <= 5, `buffered beyond the pull ${p.stats.currentDelayMs.toFixed(1)} ms at ${p.nowMs}`);
  }
  const s = run.final;
  assert.equal(s.targetDelayMs, 2);
  assert.equal(s.concealedFrames, 0, 'concealed frames');
  assert.equal(s.latePackets, 0, 'late packets');
  assert.ok(Math.abs(frequencyHz(run.output!, 3000, 19000) - 440) <= 1, 'tone at 440 Hz through the switch');
  assertContinuous(run, 'entering low latency');
});

test('packets that land close to the pull keep the frame held back', () => {
  // Landing 0 to 2 ms before the pull (or just after it): no slack to spend.
  const run = play({ signal: 'tone', frameMs: 10, durationMs: 15000 }, { baseDelayMs: 28.5, jitterMs: 2 }, 5);
  assert.deepEqual(lowLatencySwitches(run).entered, []);
  assert.ok(run.final.targetDelayMs >= 12, `target ${run.final.targetDelayMs} ms`);
  assert.equal(run.final.concealedFrames, 0);
});

test('a packet that misses its pull in low latency costs one concealed frame and plays after it; the frame is held again, for longer after each miss', () => {
  const durationMs = 40000;
  const events = makeTrace({ signal: 'tone', frameMs: 10, durationMs }, { baseDelayMs: 23, jitterMs: 2 }, 5);
  // Three packets land 8 ms late, well after low latency began: a path or event loop that was late for a moment.
  const lateAt = [8000, 10000, 22000];
  for (const e of events) if (lateAt.some((t) => Math.abs(e.sentMs - t) < 1)) e.arrivalMs += 8;
  events.sort((a, b) => a.arrivalMs - b.arrivalMs);
  const run = runTrace(new PlayoutBuffer({ createDecoder: opusDecoder }), events, durationMs, true);
  const { entered, left } = lowLatencySwitches(run);
  // In at ~1 s; the 8 s miss: out, back 5 s later; the 10 s packet lands late but in time (a frame is held by then);
  // the 22 s miss: out again, now for 10 s.
  assert.equal(entered.length, 3, `entered at ${entered.join(', ')}`);
  assert.equal(left.length, 2, `left at ${left.join(', ')}`);
  assert.ok(left[0]! >= 8020 && left[0]! <= 8050, `left at ${left[0]} ms, the pull the late packet missed`);
  assert.ok(entered[1]! - left[0]! >= 5000 && entered[1]! - left[0]! <= 6000, `back ${entered[1]! - left[0]!} ms after the first miss`);
  assert.ok(entered[2]! - left[1]! >= 10000 && entered[2]! - left[1]! <= 11000, `back ${entered[2]! - left[1]!} ms after the second miss`);
  const s = run.final;
  // The late packet is not dropped: playout concealed in front of it and slipped back to holding a frame.
  assert.equal(s.latePackets, 0, 'late packets dropped');
  assert.ok(s.concealedFrames >= 2 && s.concealedFrames <= 3, `concealed ${s.concealedFrames} frames for the two misses`);
  assert.ok(Math.abs(frequencyHz(run.output!, 3000, 39000) - 440) <= 1, 'tone at 440 Hz');
  assertContinuous(run, 'misses');
});

for (const signal of ['tone', 'harmonics'] as const) {
  test(`a packet late in low latency (${signal}): what stands in for it and the hand-over keep the level, no dip`, () => {
    const durationMs = 12000;
    const events = makeTrace({ signal, frameMs: 10, durationMs }, { baseDelayMs: 23, jitterMs: 2 }, 5);
    for (const e of events) if (Math.abs(e.sentMs - 8000) < 1) e.arrivalMs += 8;
    events.sort((a, b) => a.arrivalMs - b.arrivalMs);
    const run = runTrace(new PlayoutBuffer({ createDecoder: opusDecoder }), events, durationMs, true);
    const missed = run.pulls.find((p) => p.stats.concealedFrames > 0);
    assert.ok(missed !== undefined && missed.nowMs >= 8000 && missed.nowMs <= 8060, `one pull missed its packet (${missed?.nowMs} ms)`);
    assert.equal(run.final.concealedFrames, 1, 'one frame stood in for');
    assert.equal(run.final.latePackets, 0, 'the late packet played');
    // Level in 5 ms windows from 20 ms before the miss to 60 ms after, against the level of the second before.
    const out = run.output!;
    const db = (fromMs: number, ms: number) => {
      let e = 0;
      const a = fromMs * 48;
      for (let i = a; i < a + ms * 48; i++) e += out[i]! ** 2;
      return 10 * Math.log10(e / (ms * 48) / 32768 ** 2);
    };
    const reference = db(missed.nowMs - 1000, 900);
    const dips: string[] = [];
    for (let t = missed.nowMs - 20; t < missed.nowMs + 60; t += 5) if (db(t, 5) < reference - 3) dips.push(`${t} ms: ${db(t, 5).toFixed(1)} dB`);
    assert.deepEqual(dips, [], `5 ms windows more than 3 dB below ${reference.toFixed(1)} dB`);
    assertContinuous(run, 'the slip');
  });
}

test('packets 25 ms late every 4 s: from the second, the target covers them and nothing more is concealed; 30 s after the last, it comes down', () => {
  const durationMs = 70000;
  const events = makeTrace({ signal: 'tone', frameMs: 10, durationMs }, { baseDelayMs: 23, jitterMs: 2 }, 5);
  // A sender whose thread is late for 25 ms every 4 s, six times: too rare for the 95th percentile, too often to
  // conceal each.
  const spikes = [5000, 9000, 13000, 17000, 21000, 25000];
  for (const e of events) if (spikes.some((t) => Math.abs(e.sentMs - t) < 1)) e.arrivalMs += 25;
  events.sort((a, b) => a.arrivalMs - b.arrivalMs);
  const run = runTrace(new PlayoutBuffer({ createDecoder: opusDecoder }), events, durationMs, true);
  const at = (ms: number) => run.pulls.find((p) => p.nowMs === ms)!.stats;
  assert.ok(at(4000).lowLatency, 'low latency before the first spike');
  const concealedBy = (ms: number) => at(ms).concealedFrames;
  assert.ok(concealedBy(9500) <= 2, `the first two spikes cost a frame each at most (${concealedBy(9500)})`);
  assert.equal(run.final.concealedFrames, concealedBy(9500), 'the four after them cost nothing');
  for (const t of [12000, 20000, 26000, 40000]) {
    assert.equal(at(t).targetDelayMs, 32, `the target covers the 25 ms at ${t} ms`);
    assert.equal(at(t).lowLatency, false);
  }
  assert.equal(at(60000).targetDelayMs, 2, 'back to low latency once none came for 30 s');
  assert.ok(Math.abs(frequencyHz(run.output!, 3000, 69000) - 440) <= 1, 'tone at 440 Hz');
  assertContinuous(run, 'peaks');
});

for (const frameMs of [10, 5] as const) {
  test(`the path's delay steps up by 30 ms for good (${frameMs} ms frames): the step is concealed once, no silence, playout goes on at the new delay`, () => {
    const durationMs = 20000;
    // A sender's device, a route or our own speaker moving by more than the buffer holds. Dropping the packet that
    // comes late would leave every later one as late, concealed in turn until playout faded out and restarted.
    const events = makeTrace({ signal: 'tone', frameMs, durationMs }, { baseDelayMs: 3, jitterMs: 0.5 }, 5);
    for (const e of events) if (e.sentMs >= 12000) e.arrivalMs += 30;
    events.sort((a, b) => a.arrivalMs - b.arrivalMs);
    const run = runTrace(new PlayoutBuffer({ createDecoder: opusDecoder }), events, durationMs, true);
    const at = (ms: number) => run.pulls.find((p) => p.nowMs === ms)!.stats;
    const [before, after] = [at(11900), at(14000)];
    const concealedMs = (after.concealedSamples - before.concealedSamples) / 48;
    assert.ok(concealedMs >= 20 && concealedMs <= 40, `the 30 ms step concealed as ${concealedMs} ms`);
    assert.deepEqual(silentFrames(run.output!, -40, 11000 * 48, 15000 * 48), [], 'no silent 10 ms frame');
    assert.equal(after.latePackets - before.latePackets, 0, 'no packet dropped as late');
    assert.ok(after.lateMerged > before.lateMerged, 'the late packet played after the concealment');
    assert.ok(after.targetDelayMs > before.targetDelayMs, `the target covers the step (${before.targetDelayMs} -> ${after.targetDelayMs} ms)`);
    assert.equal(run.final.concealedFrames, after.concealedFrames, 'nothing concealed after the step');
    assert.ok(Math.abs(frequencyHz(run.output!, 12500, 19500) - 440) <= 1, 'tone at 440 Hz after the step');
    assertContinuous(run, 'delay step');
  });
}

test('the speaker catching up after its own underrun (two pulls at once) costs a concealed frame but not the path its low latency', () => {
  const durationMs = 25000;
  const events = makeTrace({ signal: 'tone', frameMs: 10, durationMs }, { baseDelayMs: 23, jitterMs: 2 }, 5);
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  const bursts = [6000, 11000, 16000];
  const lowAt: { nowMs: number; low: boolean }[] = [];
  let next = 0;
  for (let nowMs = 0; nowMs < durationMs; nowMs += PULL_MS) {
    while (next < events.length && events[next]!.arrivalMs <= nowMs) buffer.insert(events[next]!.packet, events[next++]!.arrivalMs);
    buffer.pull(PULL_SAMPLES, nowMs);
    if (bursts.includes(nowMs)) buffer.pull(PULL_SAMPLES, nowMs + 0.2);
    lowAt.push({ nowMs, low: buffer.stats().lowLatency });
    // The early pull found nothing to take: what it concealed was never buffered, and the level does not go under 0.
    assert.ok(buffer.stats().currentDelayMs >= 0, `buffered ${buffer.stats().currentDelayMs} ms at ${nowMs}`);
  }
  const s = buffer.stats();
  assert.equal(s.latePackets, 0, 'late packets dropped');
  assert.equal(s.concealedFrames, 3, 'one concealed frame per burst');
  for (const b of bursts) {
    const back = lowAt.find((p) => p.nowMs > b && p.low)?.nowMs;
    assert.ok(back !== undefined && back - b <= 2000, `low latency back ${back === undefined ? 'never' : `${back - b} ms`} after the burst at ${b} ms`);
  }
});

test('the speaker queueing a chunk further ahead (its margin rose) asks first: the playout stretches real audio for it, nothing is concealed', () => {
  const durationMs = 25000;
  const events = makeTrace({ signal: 'tone', frameMs: 10, durationMs }, { baseDelayMs: 23, jitterMs: 2 }, 5);
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  const rises = [6000, 11000, 16000];
  const waitedMs: number[] = [];
  const output: Int16Array[] = [];
  let asking: number | undefined;
  let next = 0;
  for (let nowMs = 0; nowMs < durationMs; nowMs += PULL_MS) {
    while (next < events.length && events[next]!.arrivalMs <= nowMs) buffer.insert(events[next]!.packet, events[next++]!.arrivalMs);
    output.push(buffer.pull(PULL_SAMPLES, nowMs));
    if (rises.includes(nowMs)) {
      assert.equal(buffer.stats().lowLatency, true, `in low latency at ${nowMs} ms, with nothing held beyond the pull`);
      asking = nowMs;
    }
    if (asking !== undefined && buffer.prepareAhead(PULL_SAMPLES, nowMs + 0.1)) {
      waitedMs.push(nowMs - asking);
      asking = undefined;
      output.push(buffer.pull(PULL_SAMPLES, nowMs + 0.2));
    }
  }
  const s = buffer.stats();
  assert.equal(waitedMs.length, 3, 'every rise was served');
  assert.ok(waitedMs.every((ms) => ms > 0 && ms <= 100), `each rise waited a few frames while real audio was stretched for it (${waitedMs.join(', ')} ms)`);
  assert.equal(s.concealedFrames, 0, 'concealed frames');
  assert.equal(s.latePackets, 0, 'late packets');
  assert.ok(s.preemptiveSamples >= 3 * PULL_SAMPLES, `stretched ${s.preemptiveSamples} samples for three chunks`);
  // An ask still pending when the stream resets does not raise the fresh stream's target.
  assert.equal(buffer.prepareAhead(PULL_SAMPLES, durationMs), false, 'asked with nothing held beyond the target');
  buffer.reset();
  assert.equal(buffer.stats().targetDelayMs, new PlayoutBuffer({ createDecoder: opusDecoder }).stats().targetDelayMs, 'the target of a fresh buffer');
  const pcm = Int16Array.from(output.flatMap((o) => [...o]));
  assert.ok(Math.abs(frequencyHz(pcm, 3000, 24000) - 440) <= 1, 'tone at 440 Hz');
  // No 10 ms of the output lost its level: the rises were stretched, not concealed.
  for (let f = 300; f < pcm.length / PULL_SAMPLES - 10; f++) {
    let peak = 0;
    for (let i = f * PULL_SAMPLES; i < (f + 1) * PULL_SAMPLES; i++) peak = Math.max(peak, Math.abs(pcm[i]!));
    assert.ok(peak > 0.5 * TONE_AMPLITUDE, `frame ${f} peaks at ${peak}`);
  }
});

test('a pull that comes a little late takes the next packet early; the pull after it has missed nothing', () => {
  const slack = new ArrivalSlack();
  // Packets land every 10 ms, 9 ms before the pull that plays them; the pull due at 4009 ms runs at 4010.5 ms, just
  // after the next packet landed.
  for (let k = 0; k < 500; k++) {
    slack.arrived(10 * k);
    if (k === 400) continue;
    if (k === 401) {
      slack.pulled(4010.5, true);
      assert.equal(slack.latestSlackMs, 10.5, 'the late pull took the packet it was due');
    }
    slack.pulled(10 * k + 9, true);
    assert.equal(slack.latestSlackMs, 9, `pull ${k}`);
    if (k === 350) assert.equal(slack.lowLatency, true, 'low latency after a second of 9 ms slack');
  }
  assert.equal(slack.lowLatency, true, 'still low latency after the late pull');

  // A pull that finds nothing new and nothing left over: a packet is late, and low latency ends at once.
  slack.pulled(5009, true);
  assert.equal(slack.lowLatency, false);
  assert.ok(Number.isNaN(slack.latestSlackMs));
});

for (const skewPpm of [500, -500]) {
  test(`${skewPpm > 0 ? '+' : ''}${skewPpm} ppm with 10 ms frames: the arrival phase turns through the pulls, low latency gets out of its way, nothing is concealed`, () => {
    // 500 ppm turns the phase through a whole 10 ms pull every 20 s. A slow sender's packets land later and later:
    // low latency lasts from a slack of about 8 ms down to 1. A fast sender's land earlier and earlier, from a slack
    // of 0 up to the pull before: low latency only starts once the slack is steadily 4 ms with the 2 ms of jitter.
    const durationMs = 120_000;
    const run = play({ signal: 'tone', frameMs: 10, durationMs, skewPpm }, CLEAN_LAN, 3, true);
    const steady = run.pulls.filter((p) => p.nowMs >= 5000 && p.nowMs < durationMs - 1000);
    const low = steady.filter((p) => p.stats.lowLatency).length / steady.length;
    const { entered, left } = lowLatencySwitches(run);
    assert.ok(entered.length >= 4 && left.length >= 4, `entered ${entered.length}, left ${left.length} times`);
    assert.ok(low >= (skewPpm > 0 ? 0.2 : 0.5), `low latency ${(100 * low).toFixed(0)} % of the time`);
    const last = steady[steady.length - 1]!.stats;
    assert.equal(last.concealedFrames, 0, 'concealed frames');
    assert.equal(last.latePackets, 0, 'late packets');
    assertContinuous(run, `${skewPpm} ppm`);
  });
}

test('5 % random loss: in-band FEC recovers most lost frames, the rest is concealed smoothly', () => {
  const durationMs = 30000;
  const run = play({ signal: 'tone', frameMs: 20, durationMs }, { ...CLEAN_LAN, lossRate: 0.05 }, 7);
  const s = run.final;
  assert.ok(s.packetsLost > 50, `lost ${s.packetsLost}`);
  assert.ok(Math.abs(s.lossRate - 0.05) < 0.04, `recent loss rate ${s.lossRate}`);
  assert.ok(s.fecRecoveredFrames > s.packetsLost / 2, `FEC recovered ${s.fecRecoveredFrames} of ${s.packetsLost}`);
  assert.ok(concealedRatio(run, 20, durationMs) <= 0.02, `concealed ratio ${concealedRatio(run, 20, durationMs)}`);
  assert.equal(s.underruns, 0);
  assertContinuous(run, '5 % loss');
});

test('20 % random loss of voice-like harmonics stays bounded and continuous', () => {
  const durationMs = 30000;
  const run = play({ signal: 'harmonics', frameMs: 20, durationMs }, { ...CLEAN_LAN, lossRate: 0.2 }, 7);
  assert.ok(run.final.fecRecoveredFrames > 0);
  assert.ok(concealedRatio(run, 20, durationMs) <= 0.08, `concealed ratio ${concealedRatio(run, 20, durationMs)}`);
  assertContinuous(run, '20 % loss');
});

test('burst loss: bursts are concealed, faded and merged back without clicks', () => {
  const durationMs = 30000;
  const run = play({ signal: 'tone', frameMs: 20, durationMs }, { ...CLEAN_LAN, burst: { enterRate: 0.01, meanLength: 4 } }, 7);
  assert.ok(run.final.packetsLost > 40, `lost ${run.final.packetsLost}`);
  assert.ok(concealedRatio(run, 20, durationMs) <= 0.08, `concealed ratio ${concealedRatio(run, 20, durationMs)}`);
  assertContinuous(run, 'burst loss');
});

test('40 ms jitter with reordering and duplicates: the target grows to cover it, next to nothing is late', () => {
  const durationMs = 30000;
  const run = play({ signal: 'harmonics', frameMs: 20, durationMs }, { baseDelayMs: 20, jitterMs: 40, duplicateRate: 0.02 }, 7);
  const s = run.final;
  assert.ok(s.duplicatePackets > 10, `duplicates counted: ${s.duplicatePackets}`);
  assert.ok(s.targetDelayMs > 40 && s.targetDelayMs < 80, `target ${s.targetDelayMs} ms for 40 ms jitter`);
  assert.ok(s.jitterMs > 5, `RFC 3550 jitter ${s.jitterMs} ms`);
  assert.ok(s.latePackets <= 0.01 * s.packetsReceived, `late ${s.latePackets} of ${s.packetsReceived}`);
  assert.ok(concealedRatio(run, 20, durationMs) <= 0.01, `concealed ratio ${concealedRatio(run, 20, durationMs)}`);
  assertContinuous(run, 'jitter');
});

for (const skewPpm of [500, -500]) {
  test(`${skewPpm > 0 ? '+' : ''}${skewPpm} ppm sender clock for 10 minutes: the delay holds within 5 ms of target`, () => {
    const durationMs = 600_000;
    const run = play({ signal: 'tone', frameMs: 20, durationMs, skewPpm }, CLEAN_LAN, 3);
    // The sender's last packet leaves at 600 s on its clock: stop checking a second before.
    const steady = run.pulls.filter((p) => p.nowMs >= 30_000 && p.nowMs < durationMs - 1000);
    let maxDev = 0;
    for (const p of steady) {
      assert.equal(p.stats.state, 'playing', `state at ${p.nowMs} ms`);
      maxDev = Math.max(maxDev, Math.abs(p.stats.currentDelayMs - p.stats.targetDelayMs));
    }
    assert.ok(maxDev <= 5, `max deviation ${maxDev} ms`);
    const last = steady[steady.length - 1]!.stats;
    assert.equal(last.underruns, 0);
    assert.equal(last.concealedFrames, 0);
    // 500 ppm of 600 s is 300 ms of audio (14400 samples) to absorb, by small steps.
    const netStretch = last.acceleratedSamples - last.preemptiveSamples;
    const drift = (skewPpm * 1e-6 * durationMs * SAMPLE_RATE) / 1000;
    assert.ok(Math.abs(netStretch - drift) < 0.1 * Math.abs(drift), `net stretch ${netStretch} samples for a drift of ${drift}`);
    assert.ok(last.stretchedFrames > 40, `corrected in ${last.stretchedFrames} small steps`);
    assertContinuous(run, `${skewPpm} ppm`);
  });
}

test('sequence number and timestamp wrap mid-stream do not change a single output sample', () => {
  const durationMs = 5000;
  const network: NetworkModel = { ...CLEAN_LAN, lossRate: 0.05 };
  const wrapping = play({ signal: 'tone', frameMs: 20, durationMs, startSeq: 65500, startTimestamp: 2 ** 32 - SAMPLE_RATE }, network, 5, true);
  const plain = play({ signal: 'tone', frameMs: 20, durationMs, startSeq: 1000, startTimestamp: 1_000_000 }, network, 5, true);
  assert.ok(plain.final.packetsLost > 0 && plain.final.concealedSamples + plain.final.fecRecoveredFrames > 0, 'the trace exercises loss handling');
  assert.deepEqual(wrapping.final, plain.final);
  assert.ok(Buffer.from(wrapping.output!.buffer).equals(Buffer.from(plain.output!.buffer)), 'identical output');
});

test('an SSRC change resets the stream with a fresh decoder and counts it', () => {
  const durationMs = 10000;
  let decoders = 0;
  const createDecoder = (): PlayoutDecoder => {
    decoders++;
    return new OpusDecoder();
  };
  const buffer = new PlayoutBuffer({ createDecoder });
  const events = makeTrace({ signal: 'tone', frameMs: 20, durationMs, ssrcChangeAtMs: 5000 }, CLEAN_LAN, 7);
  const run = runTrace(buffer, events, durationMs, true);
  const s = run.final;
  assert.equal(s.ssrcChanges, 1);
  assert.equal(decoders, 2);
  assert.equal(s.latePackets, 0, 'the new stream is not mistaken for late packets');
  assert.equal(s.duplicatePackets, 0);
  assert.equal(s.packetsLost, 0);
  assert.equal(s.underruns, 0);
  assert.ok(Math.abs(frequencyHz(run.output!, 6000, 9500) - 440) <= 1, 'the new stream plays');
  buffer.reset();
  assert.deepEqual(
    { ...buffer.stats(), targetDelayMs: 0 },
    { ...new PlayoutBuffer({ createDecoder }).stats(), targetDelayMs: 0 },
    'reset() returns to the fresh state',
  );
});

test('a talk-spurt gap fades to silence and goes idle; the next spurt (marker) plays at low delay', () => {
  const durationMs = 8000;
  const sender: SenderModel = { signal: 'tone', frameMs: 20, durationMs, pauses: [{ fromMs: 3000, toMs: 5000 }] };
  const events = makeTrace(sender, CLEAN_LAN, 7);
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  const run = runTrace(buffer, events, durationMs, true);
  const at = (ms: number) => run.pulls[ms / PULL_MS]!;

  assert.equal(at(4000).stats.state, 'idle');
  assert.ok(at(4000).stats.concealedFrames <= 4, `a few frames concealed before going idle: ${at(4000).stats.concealedFrames}`);
  const gap = run.output!.subarray((3200 * SAMPLE_RATE) / 1000, (5000 * SAMPLE_RATE) / 1000);
  assert.ok(gap.every((s) => s === 0), 'silence during the gap');

  const spurt = events.find((e) => e.sentMs >= 5000)!;
  assert.equal(spurt.packet.marker, true);
  const firstSound = run.pulls.find((p) => p.nowMs > 5000 && !p.silent)!;
  const latencyMs = firstSound.nowMs - spurt.arrivalMs;
  assert.ok(latencyMs <= firstSound.stats.targetDelayMs + PULL_MS, `spurt plays ${latencyMs} ms after its first packet arrived`);
  assert.equal(at(6000).stats.state, 'playing');
  assert.ok(Math.abs(at(6000).stats.currentDelayMs - at(6000).stats.targetDelayMs) <= 5);
  assert.equal(run.final.underruns, 0);
  assertContinuous(run, 'talk spurts');
});

test('a timestamp jump with consecutive sequence numbers is a pause, not loss', () => {
  const durationMs = 6000;
  const run = play({ signal: 'tone', frameMs: 20, durationMs, timestampJump: { atMs: 2000, samples: 10 * SAMPLE_RATE } }, CLEAN_LAN, 7, true);
  const s = run.final;
  assert.equal(s.latePackets, 0);
  assert.equal(s.packetsLost, 0);
  assert.ok(s.concealedFrames === 0, `concealed ${s.concealedFrames}`);
  assert.ok(Math.abs(s.currentDelayMs - s.targetDelayMs) <= 5);
  assert.ok(Math.abs(frequencyHz(run.output!, 2500, 5500) - 440) <= 1);
});

test('Opus DTX: silence is not concealed, the buffer reports dtx and resumes on speech', () => {
  const encoder = new OpusEncoder({ frameMs: 20, bitrate: 32000, fec: true, dtx: true });
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  const pcm = new Int16Array(960);
  const output: Int16Array[] = [];
  let seq = 100;
  let sentDtx = 0;
  let state = '';
  // 1 s tone, 2 s silence, 1 s tone. Like WebRTC, of consecutive DTX packets
  // (at most 2 bytes) only the first is sent; libopus's periodic comfort-noise
  // updates (a few bytes, every ~400 ms) are sent too.
  let previousDtx = false;
  for (let k = 0; k < 200; k++) {
    const talking = k < 50 || k >= 150;
    for (let i = 0; i < 960; i++) pcm[i] = talking ? Math.round(8000 * Math.sin((2 * Math.PI * 440 * (k * 960 + i)) / SAMPLE_RATE)) : 0;
    const payload = encoder.encode(pcm);
    const dtx = payload.length <= 2;
    if (!dtx || !previousDtx) {
      buffer.insert({ seq: seq++ & 0xffff, timestamp: k * 960, ssrc: 9, marker: false, payload }, k * 20 + 20);
      if (dtx) sentDtx++;
    }
    previousDtx = dtx;
    for (const nowMs of [k * 20 + 20, k * 20 + 30]) output.push(buffer.pull(PULL_SAMPLES, nowMs));
    if (k === 140) state = buffer.stats().state;
  }
  assert.ok(sentDtx >= 1, `DTX packets sent: ${sentDtx}`);
  assert.ok(seq - 100 < 130, `packets sent: ${seq - 100} of 200 frames`);
  assert.equal(state, 'dtx');
  const s = buffer.stats();
  assert.equal(s.concealedFrames, 0);
  assert.equal(s.state, 'playing');
  const all = new Int16Array(output.length * PULL_SAMPLES);
  output.forEach((o, i) => all.set(o, i * PULL_SAMPLES));
  assert.ok(Math.abs(frequencyHz(all, 3300, 3900) - 440) <= 2, 'speech resumes after DTX');
});

test('a packet the decoder rejects is concealed and counted; playout goes on', () => {
  const durationMs = 3000;
  const events = makeTrace({ signal: 'tone', frameMs: 20, durationMs }, CLEAN_LAN, 7);
  const victim = events.findIndex((e) => e.sentMs === 1000);
  // TOC code 3 announcing 63 frames of 10 ms: longer than any Opus packet may be.
  const corrupt = new Uint8Array([0x03, 0x3f, 1, 2, 3, 4, 5, 6, 7, 8]);
  events[victim] = { ...events[victim]!, packet: { ...events[victim]!.packet, payload: corrupt } };
  const run = runTrace(new PlayoutBuffer({ createDecoder: opusDecoder }), events, durationMs, true);
  assert.equal(run.final.corruptPackets, 1);
  assert.equal(run.final.concealedFrames, 1);
  assert.equal(run.final.state, 'playing');
  assert.ok(Math.abs(frequencyHz(run.output!, 1500, 2900) - 440) <= 2);
});

test('after a one-second stall of the receiver, the backlog is dropped back to target at once, without a click', () => {
  const durationMs = 6000;
  const sender: SenderModel = { signal: 'tone', frameMs: 10, durationMs };
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  const run = runTrace(buffer, makeTrace(sender, CLEAN_LAN, 11), durationMs, false, { fromMs: 2000, toMs: 3000 });
  const after = run.pulls.filter((p) => p.nowMs >= 3000);
  const first = after[0]!;
  assert.ok(first.stats.flushes >= 1, 'the first pull after the stall flushed the backlog');
  assert.ok(first.stats.flushedPackets >= 80, `about a second of packets dropped (${first.stats.flushedPackets})`);
  for (const p of after.filter((p) => p.nowMs >= 3100)) {
    assert.ok(p.stats.currentDelayMs <= p.stats.targetDelayMs + 15, `delay ${p.stats.currentDelayMs} ms vs target ${p.stats.targetDelayMs} ms at ${p.nowMs} ms`);
  }
  assert.equal(run.final.concealedFrames, 0, 'nothing had to be concealed');
  assertContinuous(run, 'flush after a stall');
});

test('a link back after a cut delivers the seconds it queued in one burst: dropped back to target, then no pull goes short', () => {
  // While a link is down the sender's kernel queues its packets for the neighbour it cannot reach (ARP), and hands
  // the newest seconds over at once when the link returns; live packets follow.
  const durationMs = 9000;
  const sender: SenderModel = { signal: 'tone', frameMs: 10, durationMs };
  const [cutFrom, cutTo, queuedMs] = [2000, 6000, 2500];
  const trace = makeTrace(sender, CLEAN_LAN, 13)
    .filter((e) => e.sentMs < cutFrom || e.sentMs >= cutTo - queuedMs)
    .map((e) => (e.sentMs >= cutFrom && e.sentMs < cutTo ? { ...e, arrivalMs: cutTo + 3 + e.sentMs / 1000 } : e));
  trace.sort((a, b) => a.arrivalMs - b.arrivalMs);
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  const run = runTrace(buffer, trace, durationMs, false);
  const back = run.pulls.find((p) => p.nowMs > cutTo && !p.silent)!;
  assert.ok(run.final.flushes >= 1, 'the burst was dropped back to target');
  const settled = run.pulls.filter((p) => p.nowMs >= back.nowMs + 100);
  const silent = settled.filter((p) => p.silent).map((p) => p.nowMs);
  assert.deepEqual(silent, [], 'not one silent pull once playing again');
  const last = settled.at(-1)!.stats;
  const first = settled[0]!.stats;
  assert.equal(last.concealedFrames - first.concealedFrames, 0, 'nothing concealed after the burst');
  assert.equal(last.underruns - first.underruns, 0, 'no packet came after its audio was concealed');
  for (const p of settled.filter((p) => p.nowMs >= back.nowMs + 300)) {
    assert.ok(p.stats.currentDelayMs <= p.stats.targetDelayMs + 15, `delay ${p.stats.currentDelayMs} ms vs target ${p.stats.targetDelayMs} ms at ${p.nowMs} ms`);
  }
});
