// The sound-card bridge on real PortAudio, through a private PulseAudio daemon's virtual devices.
// As `npm run station` does: a closing stream holds a libuv threadpool thread until PortAudio lets go.
process.env.UV_THREADPOOL_SIZE = '16';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PulseHarness, sleep } from '../testkit/pulse';
import { tone, dominantFrequency, rmsDb, onset, silentFrames } from '../testkit/signal';
import { takeSamples } from './support/chunk-queue';

let pulse: PulseHarness;
let bridge: typeof import('../native/bridge');

before(async () => {
  pulse = await PulseHarness.start(['x', 'y']);
  pulse.adoptInThisProcess();
  bridge = require('../native/bridge') as typeof import('../native/bridge');
});
after(async () => {
  await pulse?.stop();
});

test('devices have stable ids that survive re-enumeration, and defaults', () => {
  const first = bridge.listDevices();
  const second = bridge.listDevices();
  const ids = first.inputs.map((d) => d.id);
  assert.ok(ids.includes('ALSA:partyline_x_mic#0'), `inputs: ${ids.join(', ')}`);
  assert.ok(first.outputs.some((d) => d.id === 'ALSA:partyline_y_spk#0'));
  assert.deepEqual(second.inputs.map((d) => d.id), ids);
  assert.ok(first.defaultInputId === null || ids.includes(first.defaultInputId));
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
});

test('an unknown device and an unsupported rate are typed errors naming the field', () => {
  assert.throws(
    () => new bridge.CaptureStream({ deviceId: 'ALSA:no-such-card#0', onChunk: () => {} }),
    (e: unknown) => e instanceof bridge.BridgeError && e.code === 'unknown-device' && e.field === 'inputId' && /no-such-card/.test(e.message),
  );
  assert.throws(
    () => new bridge.PlaybackStream({ deviceId: 'ALSA:no-such-card#0', source: { pull: (n) => new Int16Array(n) } }),
    (e: unknown) => e instanceof bridge.BridgeError && e.code === 'unknown-device' && e.field === 'outputId',
  );
  assert.throws(
    () => new bridge.CaptureStream({ deviceId: pulse.devices('x').inputId, sampleRate: 44100, onChunk: () => {} }),
    (e: unknown) => e instanceof bridge.BridgeError && e.code === 'unsupported-rate' && e.field === 'sampleRate',
  );
});

test('capture -> playback carries a tone at its frequency and level; file I/O and timers stay responsive', async (t) => {
  const x = pulse.devices('x');
  const { capture, playback } = loopback(x.inputId, x.outputId, 4);
  const rec = pulse.record(x.speakerMonitor);
  const injection = pulse.inject(x.micSink, tone(1000, 3, -12));

  // While both streams hold their threads: many file reads and a timer must keep going.
  let fileReads = 0;
  let timerTicks = 0;
  let worstTimerLagMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    worstTimerLagMs = Math.max(worstTimerLagMs, now - last - 10);
    last = now;
    timerTicks++;
  }, 10);
  const until = Date.now() + 2000;
  while (Date.now() < until) {
    await Promise.all(Array.from({ length: 16 }, () => fsp.readFile(__filename).then(() => fileReads++)));
  }
  clearInterval(ticker);
  await injection.done;
  await sleep(300);
  const samples = await rec.stop();
  const [cStop, pStop] = await Promise.all([capture.stop(), playback.stop()]);

  t.diagnostic(`file reads in 2 s: ${fileReads}, timer ticks: ${timerTicks}, worst timer lag ${worstTimerLagMs.toFixed(1)} ms`);
  t.diagnostic(`capture ${JSON.stringify(capture.counters)} playback ${JSON.stringify(playback.counters)}`);
  assert.equal(cStop, 'stopped');
  assert.equal(pStop, 'stopped');
  assert.ok(fileReads >= 16 * 10, `file I/O kept flowing (${fileReads} reads)`);
  assert.ok(timerTicks >= 50, `timers kept firing (${timerTicks} ticks)`);

  const start = onset(samples, -30);
  assert.ok(start >= 0, 'the tone reached the speaker');
  const from = start + 4800;
  const to = from + 48000 * 2;
  assert.ok(to <= samples.length, `recorded ${samples.length} samples`);
  assert.ok(Math.abs(dominantFrequency(samples, 200, 4000, from, to) - 1000) <= 2);
  assert.ok(Math.abs(rmsDb(samples, from, to) - (-12 - 3.01)) <= 1, `level ${rmsDb(samples, from, to).toFixed(2)} dBFS`);
  assert.ok(capture.counters.chunks > 250);
  assert.ok(playback.counters.chunks > 250);
});

test('a busy event loop costs the speaker silence for as long as it is busy, faded in and out, counted, and nothing more', async (t) => {
  const y = pulse.devices('y');
  const played = tone(1000, 5, -12);
  // A quarter period in: every 10 ms chunk then ends on a crest, where a cut to zero is the loudest click.
  let at = 12;
  const playback = new bridge.PlaybackStream({
    deviceId: y.outputId,
    chunkMs: 10,
    source: { pull: (n) => played.subarray(at, (at += n)) },
  });
  const rec = pulse.record(y.speakerMonitor);
  await sleep(1000);
  const before = playback.counters.underruns;
  // 150 ms of synchronous work: far past the 20 ms queue. The device callback must not wait for us meanwhile.
  for (const until = performance.now() + 150; performance.now() < until; );
  await sleep(1500);
  const samples = await rec.stop();
  assert.equal(await playback.stop(), 'stopped');
  const start = onset(samples, -30);
  assert.ok(start >= 0, 'the tone reached the speaker');
  const gaps = silentFrames(samples, -40, start, samples.length - 4800);
  t.diagnostic(`underruns ${before} -> ${playback.counters.underruns}; longest tick wait ${playback.counters.maxTickLatencyMs.toFixed(1)} ms; silent 10 ms frames ${gaps.length} at ${gaps.join(', ')}`);
  assert.ok(playback.counters.underruns > before, 'the dropout is counted');
  // And laid at the event loop's door: a device callback waited about as long as the loop was busy.
  assert.ok(playback.counters.maxTickLatencyMs >= 135 && playback.counters.maxTickLatencyMs < 400, `the longest wait for the event loop ${playback.counters.maxTickLatencyMs} ms`);
  assert.ok(gaps.length >= 1, 'the stall is heard as silence, not hidden');
  // Silence for the stall less the queue, give or take; a blocked callback made ALSA's pulse plugin rebuild its
  // stream, and the gap grew to hundreds of ms.
  assert.ok(gaps.length <= 20, `${gaps.length} silent frames for a 150 ms stall`);
  // The gap fades out and the tone fades back in: no click at either edge. A cut to zero mid-waveform steps by up to
  // the tone's amplitude, about 8 times the largest step of the tone itself.
  const toneStep = 32767 * 10 ** (-12 / 20) * Math.sin((2 * Math.PI * 1000) / 48000);
  let edgeStep = 0;
  for (const edge of [gaps[0]!, gaps[gaps.length - 1]! + 480]) {
    for (let n = edge - 480; n < edge + 480; n++) edgeStep = Math.max(edgeStep, Math.abs(samples[n]! - samples[n - 1]!));
  }
  assert.ok(edgeStep <= 1.3 * toneStep, `largest step at the gap's edges ${edgeStep} against the tone's ${toneStep.toFixed(0)}`);
  // Afterwards the tone plays on, continuous, at its level.
  const tail = samples.length - 4800 - 48000 * 0.8;
  assert.deepEqual(silentFrames(samples, -40, tail, samples.length - 4800), [], 'the tone plays on after the stall');
  assert.ok(Math.abs(rmsDb(samples, tail, samples.length - 4800) + 15.05) <= 1.5, `level after the stall ${rmsDb(samples, tail, samples.length - 4800).toFixed(2)} dBFS`);
});

test("a microphone's longest wait between chunks is told, and laid at the thread's door when the thread was busy", async (t) => {
  const x = pulse.devices('x');
  let chunks = 0;
  const capture = new bridge.CaptureStream({ deviceId: x.serverInputId, chunkMs: 10, onChunk: () => void chunks++ });
  try {
    await sleep(1000);
    capture.takeLongestGap();
    await sleep(1000);
    const quiet = capture.takeLongestGap();
    // 100 ms of synchronous work: within the microphone's ring, so nothing is lost, but nothing reaches us meanwhile.
    const overrunsBefore = capture.counters.overruns;
    for (const until = performance.now() + 100; performance.now() < until; );
    await sleep(300);
    const busy = capture.takeLongestGap();
    t.diagnostic(`quiet: ${quiet.gapMs.toFixed(1)} ms (tick wait ${quiet.tickWaitMs.toFixed(1)}); busy: ${busy.gapMs.toFixed(1)} ms (tick wait ${busy.tickWaitMs.toFixed(1)}); ${chunks} chunks`);
    assert.ok(quiet.gapMs > 0 && quiet.gapMs < 30, `a microphone at work delivers every chunk or two (${quiet.gapMs.toFixed(1)} ms)`);
    assert.ok(busy.gapMs >= 90, `the busy thread's 100 ms shows as the wait (${busy.gapMs.toFixed(1)} ms)`);
    assert.ok(busy.tickWaitMs >= 80, `and a device callback waited that long for the thread (${busy.tickWaitMs.toFixed(1)} ms)`);
    assert.equal(capture.counters.overruns, overrunsBefore, 'the ring held what came meanwhile');
  } finally {
    await capture.stop();
  }
});

test('the audio priority: raised to nice -11 on every thread where allowed, a named reason where not', () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', PRIORITY_PROBE], { cwd: join(__dirname, '..'), encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as { result: { raised: boolean; nice: number; reason?: string }; threadNice: number[]; later: number };
  if (process.getuid?.() === 0) {
    assert.deepEqual([report.result.raised, report.result.nice], [true, -11]);
    assert.ok(report.threadNice.length > 1 && report.threadNice.every((n) => n === -11), `every thread at -11: ${report.threadNice.join(', ')}`);
    assert.equal(report.later, -11, 'a thread started afterwards inherits it');
  } else {
    assert.equal(report.result.raised, false);
    assert.match(report.result.reason ?? '', /EACCES|EPERM/);
  }
});

// Raises the priority, then reads every thread's nice value (field 19 of /proc/self/task/<tid>/stat) and that of a
// worker started afterwards.
const PRIORITY_PROBE = `
  const { raiseAudioPriority } = require('./native/bridge/priority');
  const { readdirSync, readFileSync } = require('node:fs');
  const { Worker } = require('node:worker_threads');
  const niceOf = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
  const result = raiseAudioPriority();
  const threadNice = readdirSync('/proc/self/task').map(niceOf);
  const before = new Set(readdirSync('/proc/self/task'));
  const w = new Worker('setTimeout(() => {}, 300)', { eval: true });
  setTimeout(() => {
    const added = readdirSync('/proc/self/task').filter((t) => !before.has(t));
    const later = Math.max(...added.map(niceOf));
    console.log(JSON.stringify({ result, threadNice, later }));
    w.terminate();
  }, 150);
`;

test('stop never hangs, even twice', async () => {
  const y = pulse.devices('y');
  const playback = new bridge.PlaybackStream({ deviceId: y.outputId, chunkMs: 5, source: { pull: (n) => new Int16Array(n) } });
  await sleep(200);
  assert.equal(await playback.stop(), 'stopped');
  assert.equal(await playback.stop(), 'stopped');
  assert.ok(playback.counters.chunks > 10, 'the device pulled chunks on its own clock');
});

test("a station's microphone and speaker closed at once, again and again: every stop returns and the process lives", () => {
  // As a station stops: both streams close together on libuv's threadpool while PortAudio's front end keeps one
  // list of open streams for the process. Unguarded, that list was corrupted, and the station died of SIGSEGV in the
  // Pa_Terminate that followed. In a process of its own, so that a crash is this test's failure and no other's.
  const x = pulse.devices('x');
  const script = `
    const bridge = require(${JSON.stringify(join(__dirname, '..', 'native', 'bridge'))});
    (async () => {
      for (let i = 0; i < 10; i++) {
        const mic = new bridge.CaptureStream({ deviceId: ${JSON.stringify(x.inputId)}, onChunk: () => undefined });
        const speaker = new bridge.PlaybackStream({ deviceId: ${JSON.stringify(x.outputId)}, source: { pull: (n) => new Int16Array(n) } });
        await new Promise((r) => setTimeout(r, 100));
        const outcomes = await Promise.all([mic.stop(), speaker.stop()]);
        if (mic.counters.chunks === 0 || speaker.counters.chunks === 0) throw new Error('cycle ' + i + ': a stream never ran');
        if (outcomes.some((o) => o !== 'stopped')) throw new Error('cycle ' + i + ': ' + outcomes.join(', '));
      }
      console.log('10 cycles');
    })().catch((e) => { console.log(e.message); process.exitCode = 1; });`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env: pulse.env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.signal, null, `killed by ${child.signal}: ${child.stderr.slice(-500)}`);
  assert.equal(child.stdout.trim(), '10 cycles', child.stderr.slice(-500));
});

test("5 ms chunks run on the sound server's own protocol; through ALSA a stream keeps 10 ms periods, which it can hold", async () => {
  const y = pulse.devices('y');
  const viaAlsa = new bridge.PlaybackStream({ deviceId: y.outputId, chunkMs: 5, source: { pull: (n) => new Int16Array(n) } });
  const native = new bridge.PlaybackStream({ deviceId: y.serverOutputId, chunkMs: 5, source: { pull: (n) => new Int16Array(n) } });
  try {
    await sleep(300);
    assert.equal(viaAlsa.chunkSamples, 480, 'ALSA: 10 ms chunks');
    assert.equal(viaAlsa.periodSamples, 480, 'ALSA: 10 ms periods');
    assert.equal(native.chunkSamples, 240, 'sound server: 5 ms chunks');
    assert.ok(viaAlsa.counters.chunks > 10 && native.counters.chunks > 20, `both play (${viaAlsa.counters.chunks} and ${native.counters.chunks} chunks)`);
  } finally {
    await Promise.all([viaAlsa.stop(), native.stop()]);
  }
});

test('a device unplugged mid-stream: stop still returns and the process exits', async () => {
  const y = pulse.devices('y');
  // Without PULSE_LATENCY_MSEC the sound server would move the plugin's stream to its default sink and it would play
  // on (README, the plugin path); with it, the plugin fails the stream, as a card that vanished under ALSA does.
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support', 'unplug-probe.ts'), y.outputId], {
    env: { ...pulse.env, PULSE_LATENCY_MSEC: '10' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const events: { event: string; chunks?: number; outcome?: string }[] = [];
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) events.push(JSON.parse(l));
  });
  const exited = new Promise<string>((r) => child.on('exit', (code, signal) => r(signal ?? String(code))));
  const until = async (what: string, done: () => boolean) => {
    for (const deadline = Date.now() + 10_000; !done(); await sleep(50)) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        assert.fail(`the probe: ${what} within 10 s (${JSON.stringify(events.filter((e) => e.event !== 'chunks'))})`);
      }
    }
  };
  await until('plays', () => events.some((e) => e.event === 'chunks' && (e.chunks ?? 0) > 10));
  const modules = await pulse.pactl('list', 'short', 'modules');
  const line = modules.split('\n').find((l) => l.includes('sink_name=y_spk'));
  assert.ok(line, 'the speaker module is loaded');
  await pulse.pactl('unload-module', line.split('\t')[0] as string);
  await until('reports the lost device', () => events.some((e) => e.event === 'error'));
  child.kill('SIGINT');
  const how = await Promise.race([exited, sleep(5000).then(() => 'hung')]);
  if (how === 'hung') child.kill('SIGKILL');
  const lost = events.find((e) => e.event === 'error') as { code?: string } | undefined;
  assert.equal(lost?.code, 'device-lost', 'the watchdog reported the lost device');
  const stopped = events.find((e) => e.event === 'stopped');
  assert.ok(stopped, 'stop() returned');
  // 0 when PortAudio let go; SIGKILL when a native thread was stuck on the dead device. Never a hang.
  assert.ok(how === '0' || (how === 'SIGKILL' && stopped.outcome === 'abandoned'), `exit: ${how}, stop: ${stopped.outcome}`);
});

test('a station applies device changes sent together one after the other, so neither undoes the other', async () => {
  const { composeStation } = require('../electron/compose/station') as typeof import('../electron/compose/station');
  const station = composeStation();
  try {
    // (y's speaker was unplugged by the test before.)
    const x = pulse.devices('x');
    const [first, second] = await Promise.all([station.selectDevices({ inputId: x.inputId }), station.selectDevices({ outputId: x.outputId })]);
    assert.equal(first.inputId, x.inputId);
    assert.deepEqual([second.inputId, second.outputId, second.inputState, second.outputState], [x.inputId, x.outputId, 'ok', 'ok']);
    assert.deepEqual(station.state().devices, second);
    assert.deepEqual([second.inputOverruns, second.outputUnderruns].map((n) => typeof n), ['number', 'number'], 'xrun counters of the open streams');
    await assert.rejects(station.selectDevices({ inputId: 'ALSA:gone#0' }), (e: unknown) => e instanceof bridge.BridgeError && e.field === 'inputId');
    // (The xrun counters are live: the refusal waits for a device scan, and the devices keep playing meanwhile.)
    assert.deepEqual(chosen(station.state().devices), chosen(second), 'a refused change leaves the selection as it was');
  } finally {
    await station.close();
  }
});

/** The buffering PulseAudio holds for the client streams whose entry mentions `client`, as `pactl` reports it, in ms. */
function serverBufferMs(client: string): number[] {
  const out = spawnSync('pactl', ['list', 'sink-inputs'], { env: pulse.env, encoding: 'utf8' }).stdout;
  return out
    .split('Sink Input #')
    .filter((b) => b.includes(client))
    .map((b) => Number(/Buffer Latency: (\d+) usec/.exec(b)?.[1]) / 1000);
}

test('a speaker asks the sound server for low latency itself on its own protocol, and a user\'s PULSE_LATENCY_MSEC is honoured on either path', async (t) => {
  // (y's speaker was unplugged by the test before.)
  const x = pulse.devices('x');
  const held: Record<string, number[]> = {};
  const paths = [
    { path: 'plugin', deviceId: x.outputId, client: 'ALSA plug-in' },
    { path: 'server', deviceId: x.serverOutputId, client: 'Partyline speaker' },
  ];
  for (const { path, deviceId, client } of paths) {
    for (const choice of ['unset', '40']) {
      const env: NodeJS.ProcessEnv = { ...pulse.env };
      if (choice === 'unset') delete env.PULSE_LATENCY_MSEC;
      else env.PULSE_LATENCY_MSEC = choice;
      const script = `const b = require(${JSON.stringify(join(__dirname, '..', 'native', 'bridge'))}); new b.PlaybackStream({ deviceId: ${JSON.stringify(deviceId)}, chunkMs: 10, source: { pull: (n) => new Int16Array(n) } }); console.log('open'); setTimeout(() => process.exit(0), 8000);`;
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
          child.on('exit', (code) => reject(new Error(`the probe exited (${code}) before opening its speaker`)));
        });
        // Read in the stream's first 1.5 s, where an underflow (a late thread on a busy machine) is counted but does
        // not deepen the buffer (server_latency.h): what is read is what the speaker asked for, not what it learned.
        await sleep(300);
        // The reading is of one instant, and the buffer's fill swings by a request between refills: what it holds is
        // the most of several readings (for the default, the stricter reading too). They are spaced at no multiple of
        // the sink's 10 ms render period: at 50 ms, all six could fall at the same low point of its cycle (22.5 ms
        // read, 1 run in 4, where the queue reached 30).
        const readings: number[][] = [];
        for (let i = 0; i < 10; i++, await sleep(23)) readings.push(serverBufferMs(client));
        held[`${path} ${choice}`] = readings[0]!.map((_, stream) => Math.max(...readings.map((r) => r[stream] ?? 0)));
      } finally {
        child.kill();
        await new Promise((r) => (child.exitCode === null ? child.on('exit', r) : r(null)));
      }
    }
  }
  t.diagnostic(`the sound server holds, in ms: ${JSON.stringify(held)}`);
  for (const path of ['plugin', 'server']) {
    assert.equal(held[`${path} unset`]!.length, 1, `one ${path} stream`);
    assert.ok(held[`${path} 40`]![0]! >= 25, `${path}: held ${held[`${path} 40`]![0]} ms when the user asked for 40`);
  }
  // On its own protocol the speaker asks for low latency itself. Through the plugin, which never asks, the server
  // holds a whole ALSA buffer (README): the station does not set PULSE_LATENCY_MSEC, which would pin its own streams.
  assert.ok(held['server unset']![0]! <= 10, `server: held ${held['server unset']![0]} ms by default`);
});

test('the sound server\'s own devices: listed with stable ids (here and by the scan), and a tone through them at its frequency and level, with no gap', async (t) => {
  const x = pulse.devices('x');
  const listed = bridge.listDevices();
  const scanned = bridge.deviceList(await bridge.scanDevices(0));
  for (const list of [listed, scanned]) {
    assert.ok(list.inputs.some((d) => d.id === x.serverInputId && d.hostApi === 'PulseAudio' && d.name === 'Monitor of x_mic'), list.inputs.map((d) => d.id).join(', '));
    assert.ok(list.outputs.some((d) => d.id === x.serverOutputId && d.name === 'x_spk'));
    assert.ok(!list.outputs.some((d) => d.id === x.serverInputId), 'a source is not offered as a speaker');
  }
  // The loop runs in a process of its own, as the station's devices run on its media thread: on this thread, the
  // test's own work (spawning the injector took 12 to 15 ms, and its collections of garbage) held an in-process loop
  // up by 35 to 72 ms in 4 of 8 runs of this file.
  const loop = loopbackProbe(x.serverInputId, x.serverOutputId, 1);
  try {
    const opened = await loop.opened;
    assert.deepEqual(opened, { input: 'PulseAudio', output: 'PulseAudio' });
    const rec = pulse.record(x.speakerMonitor);
    await sleep(500);
    const before = loop.latest();
    const ownBefore = before.playback.underruns - before.playback.deviceUnderflows;
    await pulse.inject(x.micSink, tone(1000, 2, -12)).done;
    await sleep(300);
    const samples = await rec.stop();
    const { capture, playback } = loop.latest();
    t.diagnostic(`capture ${JSON.stringify(capture)} playback ${JSON.stringify(playback)}`);
    const start = onset(samples, -30);
    assert.ok(start >= 0, 'the tone reached the speaker');
    const from = start + 480;
    const to = start + 48000 * 1.9;
    assert.ok(Math.abs(dominantFrequency(samples, 200, 4000, from, to) - 1000) <= 2);
    assert.ok(Math.abs(rmsDb(samples, from, to) - (-12 - 3.01)) <= 1, `level ${rmsDb(samples, from, to).toFixed(2)} dBFS`);
    assert.deepEqual(silentFrames(samples, -40, from, to), [], 'no gap while the tone played');
    // The server may report an underflow of its own (its buffer for us is about 7.5 ms): counted, and no gap above.
    assert.equal(playback.underruns - playback.deviceUnderflows, ownBefore, 'the ring never ran short');
    assert.equal(capture.overruns, 0);
  } finally {
    await loop.stop();
  }
});

test("a sound server's buffer that ran dry deepens, so the same stall again costs no gap; each such underflow is counted", async (t) => {
  // (y's speaker was unplugged by the test before.)
  const x = pulse.devices('x');
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support', 'speaker-probe.ts'), x.serverOutputId], {
    env: pulse.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  type Counters = { underruns: number; deviceUnderflows: number; deviceBufferMs: number | null; earlyMs: number };
  let latest: Counters | undefined;
  let grant = 'not asked';
  let buffered = '';
  // The most the speaker pulled ahead of real time (the probe's earlyMs) since the test last looked.
  let earliest = -Infinity;
  const takeEarliest = () => {
    const most = earliest;
    earliest = -Infinity;
    return most;
  };
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      const o = JSON.parse(l) as Counters & { event: string; grant?: string };
      if (o.event === 'priority') grant = o.grant ?? '';
      if (o.event !== 'counters') continue;
      latest = o;
      earliest = Math.max(earliest, o.earlyMs ?? -Infinity);
    }
  });
  const exited = new Promise<string>((r) => child.on('exit', (code, signal) => r(signal ?? String(code))));
  try {
    while (latest === undefined) {
      assert.equal(child.exitCode, null, 'the probe opened its speaker');
      await sleep(50);
    }
    await sleep(2000);
    takeEarliest();
    await sleep(500);
    const first = latest;
    const earlyBefore = takeEarliest();
    // The whole client stops, libpulse's thread too: only what the server holds for it plays meanwhile.
    const stall = new Int32Array(new SharedArrayBuffer(4));
    const stallOnce = async () => {
      child.kill('SIGSTOP');
      Atomics.wait(stall, 0, 0, 30);
      child.kill('SIGCONT');
      await sleep(600);
    };
    const learning: Counters[] = [];
    for (let i = 0; i < 8; i++) {
      await stallOnce();
      learning.push(latest);
    }
    const learned = latest;
    const earlyLearning = takeEarliest();
    const rec = pulse.record(x.speakerMonitor);
    await sleep(300);
    for (let i = 0; i < 5; i++) await stallOnce();
    const samples = await rec.stop();
    const after = latest;
    const earlyAfter = takeEarliest();
    t.diagnostic(`speaker thread: ${grant}; device buffer ${first.deviceBufferMs} ms at first, ${learning.map((c) => c.deviceBufferMs).join(' -> ')} ms; underflows ${first.deviceUnderflows} -> ${learned.deviceUnderflows} -> ${after.deviceUnderflows}; all underruns ${first.underruns} -> ${learned.underruns} -> ${after.underruns}; pulled ahead of real time at most ${[earlyBefore, earlyLearning, earlyAfter].map((v) => v.toFixed(1)).join(' -> ')} ms`);
    assert.ok(first.deviceBufferMs !== null && first.deviceBufferMs <= 12, `the server buffered what the speaker asked for at first (${first.deviceBufferMs} ms)`);
    assert.ok(learned.deviceUnderflows > first.deviceUnderflows, 'a 30 ms stall ran the server dry, and it was counted');
    assert.ok((learned.deviceBufferMs ?? 0) > 30, `the server's buffer deepened past the stall (${learned.deviceBufferMs} ms)`);
    assert.equal(after.underruns, learned.underruns, 'the same stall again: no underrun, in the server or in our queue');
    // The deeper buffer is built from audio the source had built by stretching, not pulled ahead of it: a playout would
    // have concealed a frame for every 10 ms of that. Chunks fall at their own moments, so the pull wanders a few ms;
    // not one whole frame may be pulled ahead (it was 25 to 30 ms before the deepening was built as a rise).
    const early = Math.max(earlyLearning, earlyAfter) - earlyBefore;
    assert.ok(early < 10, `not one 10 ms frame of the deepening was pulled from the source ahead of real time (${early.toFixed(1)} ms beyond before)`);
    const from = 48000 * 0.3;
    assert.ok(Math.abs(dominantFrequency(samples, 200, 4000, from, samples.length - 4800) - 1000) <= 2);
    assert.deepEqual(silentFrames(samples, -40, from, samples.length - 4800), [], 'no gap at the speaker through five more stalls');
  } finally {
    child.kill('SIGINT');
    await Promise.race([exited, sleep(5000)]);
  }
});

test('with a sound server answering, the system default is its default sink and source, on its own protocol', async () => {
  const list = bridge.listDevices();
  assert.equal(list.defaultOutputId, 'PulseAudio:@DEFAULT_SINK@#0');
  assert.equal(list.defaultInputId, 'PulseAudio:@DEFAULT_SOURCE@#0');
  assert.equal(list.outputs.find((d) => d.id === list.defaultOutputId)?.name, 'Default speaker (sound server)');
  // The harness makes `nowhere` the server's default sink: a default speaker plays there.
  let at = 0;
  const played = tone(700, 2, -12);
  const playback = new bridge.PlaybackStream({ deviceId: null, chunkMs: 10, source: { pull: (n) => played.subarray(at, (at += n)) } });
  try {
    assert.equal(playback.device.id, 'PulseAudio:@DEFAULT_SINK@#0');
    const rec = pulse.record('nowhere.monitor');
    await sleep(800);
    const samples = await rec.stop();
    const start = onset(samples, -30);
    assert.ok(start >= 0, 'the tone reached the default sink');
    assert.ok(Math.abs(dominantFrequency(samples, 200, 4000, start + 480, start + 24000) - 700) <= 3);
  } finally {
    await playback.stop();
  }
});

test('a sound-server device that is not there, or goes away mid-stream, is a clear error naming the field', async () => {
  assert.throws(
    () => new bridge.PlaybackStream({ deviceId: 'PulseAudio:no-such-sink#0', chunkMs: 10, source: { pull: (n) => new Int16Array(n) } }),
    (e: unknown) => e instanceof bridge.BridgeError && e.code === 'unknown-device' && e.field === 'outputId' && /the sound server has no sink "no-such-sink"/.test(e.message),
  );
  assert.throws(
    () => new bridge.CaptureStream({ deviceId: 'PulseAudio:no-such-source#0', chunkMs: 10, onChunk: () => {} }),
    (e: unknown) => e instanceof bridge.BridgeError && e.field === 'inputId' && /no source "no-such-source"/.test(e.message),
  );
  // A headset unplugged: its sink leaves the server. The stream must not wander off to another sink.
  const w = await pulse.plugIn('w');
  const playback = new bridge.PlaybackStream({ deviceId: w.serverOutputId, chunkMs: 10, source: { pull: (n) => new Int16Array(n) } });
  const lost = new Promise<InstanceType<typeof bridge.BridgeError>>((resolve) => playback.on('error', resolve));
  await sleep(300);
  const modules = await pulse.pactl('list', 'short', 'modules');
  const line = modules.split('\n').find((l) => l.includes('sink_name=w_spk'));
  assert.ok(line, 'the headset\'s sink module');
  const unpluggedAt = performance.now();
  await pulse.pactl('unload-module', line.split('\t')[0] as string);
  const error = await Promise.race([lost, sleep(3000).then(() => undefined)]);
  assert.ok(error, 'the station hears that its speaker went away');
  assert.equal(error.code, 'device-lost');
  assert.equal(error.field, 'outputId');
  assert.match(error.message, /PulseAudio:w_spk#0/);
  assert.ok(performance.now() - unpluggedAt < 1500, 'told at once, not by the watchdog after a stall');
  assert.equal(await playback.stop(), 'stopped');
});

test('a pull delay beyond half the playback queue is refused, naming the option, before any device opens', () => {
  assert.throws(
    () => new bridge.PlaybackStream({ deviceId: 'ALSA:no-such-card#0', chunkMs: 10, queueChunks: 2, pullDelayMs: 15, source: { pull: (n) => new Int16Array(n) } }),
    (e: unknown) => e instanceof bridge.BridgeError && e.field === 'pullDelayMs' && /half the queue \(10 ms\)/.test(e.message),
  );
});

test('a headset plugged in while the station is on air: listed with its stable ids, and choosing it moves the sound there', async () => {
  const { composeStationControl } = require('../electron/compose/station') as typeof import('../electron/compose/station');
  const { validateCommandOutput } = require('../electron/common/contract') as typeof import('../electron/common/contract');
  const control = composeStationControl({ version: 'test' });
  const { station } = control;
  const listDevices = async () => {
    const reply = validateCommandOutput('devices.list', await control.invoke('devices.list', {}));
    assert.ok(reply.ok, 'devices.list keeps the contract');
    return reply.value;
  };
  const x = pulse.devices('x');
  let samples: Int16Array;
  try {
    await station.selectDevices({ inputId: x.inputId, outputId: x.outputId });
    station.setTestTone(true, 1000, -12);
    const c = pulse.devices('c');
    const before = await listDevices();
    assert.ok(!before.outputs.some((d) => d.id === c.outputId), 'station c has no devices yet');

    await pulse.plugIn('c');
    // A listing is shared for a moment (a flood of requests must not spawn a process each): the one above is stale.
    await sleep(bridge.SCAN_REUSE_MS);
    // What made the picker blind: with streams open, this process's PortAudio still has the table from their opening.
    assert.throws(() => bridge.resolveDevice(c.outputId, 'output', 'outputId'), (e: unknown) => e instanceof bridge.BridgeError && e.code === 'unknown-device');
    const after = await listDevices();
    assert.ok(after.inputs.some((d) => d.id === c.inputId), `inputs: ${after.inputs.map((d) => d.id).join(', ')}`);
    assert.ok(after.outputs.some((d) => d.id === c.outputId), `outputs: ${after.outputs.map((d) => d.id).join(', ')}`);
    assert.ok(after.inputs.some((d) => d.id === x.inputId) && after.outputs.some((d) => d.id === x.outputId), 'the devices on air are still listed');

    const rec = pulse.record(c.speakerMonitor);
    const selection = await control.invoke('devices.select', { outputId: c.outputId });
    assert.deepEqual([selection.inputId, selection.inputState, selection.outputId, selection.outputState], [x.inputId, 'ok', c.outputId, 'ok']);
    // The microphone was closed for PortAudio's rescan too: it must be back, hearing what is played into it.
    let micDb = -Infinity;
    const onEvent = (name: string, payload: unknown) => {
      if (name === 'meters') micDb = Math.max(micDb, (payload as { input: { rmsDb: number } }).input.rmsDb);
    };
    station.on('event', onEvent);
    const talk = pulse.inject(x.micSink, tone(440, 1.5, -12));
    await talk.done;
    station.off('event', onEvent);
    samples = await rec.stop();
    assert.ok(micDb > -30, `the microphone reopened and hears its input (${micDb.toFixed(1)} dBFS)`);

    // An id no scan knows is refused, naming the field, and the selection stays as it was.
    for (const field of ['inputId', 'outputId'] as const) {
      await assert.rejects(
        station.selectDevices({ [field]: 'ALSA:partyline_nobody_spk#0' }),
        (e: unknown) => e instanceof bridge.BridgeError && e.code === 'unknown-device' && e.field === field && /partyline_nobody_spk/.test(e.message),
      );
    }
    assert.deepEqual(chosen(station.state().devices), chosen(selection));
  } finally {
    await station.close();
  }
  // Measured once the station is closed: a second of analysis on its event loop would read as a stalled device.
  const start = onset(samples, -30);
  assert.ok(start >= 0, "the station's test tone reached the new speaker");
  const from = start + 4800;
  assert.ok(samples.length - from >= 48000 / 2, `recorded ${samples.length} samples`);
  assert.ok(Math.abs(dominantFrequency(samples, 200, 4000, from, samples.length) - 1000) <= 2, 'at its frequency');
});

test("a listing flood costs ALSA one enumeration; a headset's PCMs added to ALSA's configuration are listed at the next scan", async () => {
  // Every PortAudio enumeration opens a sound-server connection per ALSA device the pulse plugin serves: listings
  // share one while nothing it depends on changed, and ask the server only for its own devices.
  const first = await bridge.scanDevices(0);
  assert.ok(first.enumeration !== undefined, 'the scan says which enumeration it came from');
  for (let i = 0; i < 5; i++) {
    const again = await bridge.scanDevices(0);
    assert.equal(again.enumeration, first.enumeration, `listing ${i + 2}: nothing changed, the enumeration stands`);
  }
  const v = await pulse.plugIn('v');
  const after = await bridge.scanDevices(0);
  assert.ok((after.enumeration ?? 0) > (first.enumeration ?? 0), 'the changed ALSA configuration made it enumerate again');
  const list = bridge.deviceList(after);
  assert.ok(list.outputs.some((d) => d.id === v.outputId), `outputs: ${list.outputs.map((d) => d.id).join(', ')}`);
  assert.ok(list.inputs.some((d) => d.id === v.serverInputId), `the sound server's new source, asked afresh: ${list.inputs.map((d) => d.id).join(', ')}`);
});

test('a wedged sound server: a listing gives up with scan-failed, at 3 s when the server does not list its devices and at 5 s when the enumeration itself hangs (that scanner is killed), and works once the server answers', async () => {
  const scanners = () => spawnSync('pgrep', ['-f', 'getHostAPIs'], { encoding: 'utf8' }).stdout.trim();
  const attempt = async () => {
    const started = performance.now();
    try {
      await bridge.scanDevices(0);
    } catch (e) {
      return { failure: e, tookMs: performance.now() - started };
    }
    return { failure: undefined, tookMs: performance.now() - started };
  };
  await bridge.scanDevices(0);

  // Nothing changed in ALSA: the standing enumeration is answered, and the server is asked for its own devices.
  let thaw = pulse.freeze();
  let tried;
  try {
    tried = await attempt();
  } finally {
    thaw();
  }
  assert.ok(tried.failure instanceof bridge.BridgeError && tried.failure.code === 'scan-failed', `scan-failed, got ${String(tried.failure)}`);
  assert.match((tried.failure as Error).message, /sound server .*did not answer within 3 s/, 'the error names the hung server, not a shorter list');
  assert.ok(tried.tookMs >= 3000 && tried.tookMs < 5000, `gave up after ${tried.tookMs.toFixed(0)} ms`);

  // ALSA's configuration changed meanwhile: PortAudio enumerates again, and ALSA's pulse plugin waits without end.
  pulse.touchAlsaConfig();
  thaw = pulse.freeze();
  try {
    tried = await attempt();
  } finally {
    thaw();
  }
  assert.ok(tried.failure instanceof bridge.BridgeError && tried.failure.code === 'scan-failed', `scan-failed, got ${String(tried.failure)}`);
  assert.match((tried.failure as Error).message, /no answer within 5000 ms \(is the sound server hung\?\)/);
  assert.ok(tried.tookMs >= 5000 && tried.tookMs < 7000, `gave up after ${tried.tookMs.toFixed(0)} ms`);
  assert.equal(scanners(), '', 'the hung scanning process was killed');

  // A failed scan is not reused: the next listing scans again, in a new scanner, and finds the devices.
  const outputs = bridge.deviceList(await bridge.scanDevices()).outputs.map((d) => d.id);
  assert.ok(outputs.includes(pulse.devices('x').outputId), `outputs: ${outputs.join(', ')}`);
});

/** A device selection without its live xrun counters. */
function chosen(d: { inputId: string | null; inputState: string; outputId: string | null; outputState: string; error?: string }): unknown[] {
  return [d.inputId, d.inputState, d.outputId, d.outputState, d.error];
}

/** The first n samples queued in `chunks` (chunks of any size), removed from it. */
/**
 * A microphone played straight to a speaker through a queue of chunks: the minimal "engine". The speaker plays
 * silence until `prime` chunks have arrived.
 */
type LoopCounters = { capture: { overruns: number }; playback: { underruns: number; deviceUnderflows: number } };

/** test/support/loopback-probe.ts in a child process: its devices once open, and its latest counters. */
function loopbackProbe(inputId: string, outputId: string, prime: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support', 'loopback-probe.ts'), inputId, outputId, String(prime)], {
    env: pulse.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let latest: LoopCounters | undefined;
  let buffered = '';
  let resolveOpen: (o: { input: string; output: string }) => void = () => undefined;
  const opened = new Promise<{ input: string; output: string }>((resolve, reject) => {
    resolveOpen = resolve;
    child.on('exit', (code) => reject(new Error(`the loop exited (${code}) before opening its devices`)));
  });
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      const o = JSON.parse(l) as { event: string; input?: string; output?: string } & LoopCounters;
      if (o.event === 'open') resolveOpen({ input: o.input ?? '', output: o.output ?? '' });
      else if (o.event === 'counters') latest = o;
    }
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    opened,
    latest: (): LoopCounters => {
      if (!latest) throw new Error('the loop has reported no counters yet');
      return latest;
    },
    stop: async () => {
      child.kill('SIGINT');
      await Promise.race([exited, sleep(5000)]);
    },
  };
}

function loopback(inputId: string, outputId: string, prime: number) {
  const ring: Int16Array[] = [];
  const capture = new bridge.CaptureStream({ deviceId: inputId, chunkMs: 10, onChunk: (pcm) => ring.push(pcm.slice()) });
  const playback = new bridge.PlaybackStream({
    deviceId: outputId,
    chunkMs: 10,
    source: { pull: (n) => (ring.length >= prime ? takeSamples(ring, n) : new Int16Array(n)) },
  });
  return { capture, playback };
}
