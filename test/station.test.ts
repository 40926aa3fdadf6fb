// Stations in separate processes, real PortAudio on PulseAudio virtual devices, real werift peers over loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess, stopStations } from '../testkit/station-process';
import { tone, dominantFrequency, rmsDb, silentFrames, toneDb, tonePresenceDb } from '../testkit/signal';

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a', 'b', 'c']);
});
after(async () => {
  await pulse?.stop();
});

function stationArgs(name: string, server: string[], extra: string[] = []): string[] {
  const d = pulse.devices(name.toLowerCase());
  // B opens its devices on the sound server's own protocol, the others through PortAudio and ALSA: both paths carry
  // the same tests.
  const [input, output] = name === 'B' ? [d.serverInputId, d.serverOutputId] : [d.inputId, d.outputId];
  return ['--name', name, ...server, '--line', 'main:s3cret', '--input', input, '--output', output, '--ui', ...extra];
}

test('two stations, both directions at once: 440 Hz A->B and 1000 Hz B->A, right level, no dropouts', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0', '--insecure'], ['--talk', 'main']), pulse.env);
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url, '--insecure'], ['--talk', 'main']), pulse.env);
    try {
      await a.waitFor(/\[peer B\] connected/);
      await b.waitFor(/\[peer A\] connected/);
      // The recorders start first: a recorder attaching to a sink makes PulseAudio retune that sink's latency, which
      // can cost the stream playing into it a few ms at that moment. A real speaker has no such neighbour.
      const recA = pulse.record(pulse.devices('a').speakerMonitor);
      const recB = pulse.record(pulse.devices('b').speakerMonitor);
      // What the microphones got: a gap there is the harness's (the injecting pacat starved), not the stations'.
      const micA = pulse.record(`${pulse.devices('a').micSink}.monitor`);
      const micB = pulse.record(`${pulse.devices('b').micSink}.monitor`);
      await sleep(500);
      const toA = pulse.inject(pulse.devices('a').micSink, tone(440, 14, -12));
      const toB = pulse.inject(pulse.devices('b').micSink, tone(1000, 14, -12));
      await sleep(12_500); // 2 s to settle (first packets, playout target), then 10 s of steady state
      const [atA, atB, heardByA, heardByB] = await Promise.all([recA.stop(), recB.stop(), micA.stop(), micB.stop()]);
      toA.stop();
      toB.stop();
      const from = 48000 * 2.5;
      const to = from + 48000 * 10;
      assert.ok(atA.length >= to && atB.length >= to, `recorded ${atA.length} and ${atB.length} samples`);
      const fB = dominantFrequency(atB, 100, 4000, from, to);
      const fA = dominantFrequency(atA, 100, 4000, from, to);
      assert.ok(Math.abs(fB - 440) <= 2, `B hears ${fB} Hz`);
      assert.ok(Math.abs(fA - 1000) <= 2, `A hears ${fA} Hz`);
      // -12 dBFS peak sine = -15.05 dBFS RMS in; volume 1 end to end.
      assert.ok(Math.abs(rmsDb(atB, from, to) + 15.05) <= 3, `level at B ${rmsDb(atB, from, to).toFixed(2)} dBFS`);
      assert.ok(Math.abs(rmsDb(atA, from, to) + 15.05) <= 3, `level at A ${rmsDb(atA, from, to).toFixed(2)} dBFS`);
      // Only the remote's tone: our own is not echoed back.
      assert.ok(toneDb(atB, 1000, from, to) < toneDb(atB, 440, from, to) - 40, 'B does not hear itself');
      const windowStart = new Date(Date.now() - ((atB.length - from) / 48000) * 1000).toISOString().slice(11, 23);
      const gapsB = silentFrames(atB, -40, from, to);
      const gapsA = silentFrames(atA, -40, from, to);
      if (gapsA.length + gapsB.length > 0) {
        // Say which part dropped out: a microphone's feed, a station's devices, or the path between them.
        const [stateA, stateB] = (await Promise.all([a.invoke('station.getState'), b.invoke('station.getState')])) as { devices: object }[];
        await sleep(1200); // a health event (its counters are totals since the peer connected)
        const audioLog = (s: StationProcess) => s.lines.filter((l) => /\[(audio|playout|peer [^\]]+)\]/.test(l)).slice(-16).join(' | ');
        const health = (s: StationProcess) => JSON.stringify(s.events.filter((e) => e.event === 'health').at(-1)?.payload);
        const micGaps = (x: Int16Array) => silentFrames(x, -40, from, to).length;
        assert.fail(
          `silent 10 ms frames: at A ${gapsA.length} (${gapsA.join(', ')}), at B ${gapsB.length} (${gapsB.join(', ')}); ` +
            `in the microphone feeds A ${micGaps(heardByA)}, B ${micGaps(heardByB)}; ` +
            `A devices ${JSON.stringify(stateA?.devices)}, B devices ${JSON.stringify(stateB?.devices)}; A health ${health(a)}; B health ${health(b)}; ` +
            `the window began about ${windowStart}; A's audio log: ${audioLog(a)}; B's audio log: ${audioLog(b)}`,
        );
      }
    } finally {
      assert.equal(await b.stop(), '0', `B exits cleanly on SIGINT (last lines: ${b.tail()})`);
    }
  } finally {
    assert.equal(await a.stop(), '0', `A exits cleanly on SIGINT (last lines: ${a.tail()})`);
  }
});

test('three stations on one line: C hears A and B; C stops listening: silence; A stops talking: only B', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0', '--insecure'], ['--talk', 'main']), pulse.env);
  const stations = [a];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url, '--insecure'], ['--talk', 'main']), pulse.env);
    const c = new StationProcess(stationArgs('C', ['--server', url, '--insecure']), pulse.env);
    stations.push(b, c);
    await c.waitFor(/\[peer A\] first RTP/, 20000);
    await c.waitFor(/\[peer B\] first RTP/, 20000);
    const toA = pulse.inject(pulse.devices('a').micSink, tone(440, 30, -12));
    const toB = pulse.inject(pulse.devices('b').micSink, tone(1000, 30, -12));
    const listen = async (ms: number) => {
      const rec = pulse.record(pulse.devices('c').speakerMonitor);
      await sleep(ms);
      const x = await rec.stop();
      return { x, from: 4800, to: x.length - 2400 };
    };
    try {
      await sleep(1000);
      const both = await listen(2000);
      const a440 = tonePresenceDb(both.x, 440, both.from, both.to);
      const b1000 = tonePresenceDb(both.x, 1000, both.from, both.to);
      assert.ok(a440 > -25 && b1000 > -25, `C hears A (${a440.toFixed(1)} dB) and B (${b1000.toFixed(1)} dB)`);

      const state = (await c.invoke('line.setListen', { line: 'main', on: false })) as { listen: boolean; talkers: { name: string }[] };
      assert.equal(state.listen, false);
      assert.deepEqual(state.talkers.map((t) => t.name).sort(), ['A', 'B'], 'C still sees who talks');
      await sleep(300);
      const muted = await listen(1500);
      assert.ok(rmsDb(muted.x, muted.from, muted.to) < -60, `silence while not listening (${rmsDb(muted.x, muted.from, muted.to).toFixed(1)} dBFS)`);

      await c.invoke('line.setListen', { line: 'main', on: true });
      await a.invoke('line.setTalk', { line: 'main', on: false });
      await sleep(500);
      const onlyB = await listen(2000);
      // Presence is judged per 100 ms block (a stretch or concealment under load must not cancel a tone out);
      // absence over the whole window, whose narrow bin keeps the codec's noise floor low.
      const left440 = toneDb(onlyB.x, 440, onlyB.from, onlyB.to);
      const left1000 = tonePresenceDb(onlyB.x, 1000, onlyB.from, onlyB.to);
      assert.ok(left1000 > -25, `B remains (${left1000.toFixed(1)} dB)`);
      assert.ok(left440 < -60, `A is gone (${left440.toFixed(1)} dB)`);
    } finally {
      toA.stop();
      toB.stop();
    }
  } finally {
    await stopStations(stations.reverse());
  }
});

test('bad input gets a clear error and the other stations keep their audio', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0', '--insecure'], ['--talk', 'main']), pulse.env);
  const stations = [a];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url, '--insecure']), pulse.env);
    stations.push(b);
    await b.waitFor(/\[peer A\] first RTP/, 20000);
    // C takes the unknown device id (it is looked up in a device scan of its own, in a child process). The stations
    // around it must keep their audio.
    const c = new StationProcess(stationArgs('C', ['--server', url, '--insecure']), pulse.env);
    stations.push(c);
    await c.waitFor(/\[peer A\] connected/, 20000);
    const toA = pulse.inject(pulse.devices('a').micSink, tone(440, 20, -12));
    await sleep(1000); // settle: the tone reaches B's speaker
    const rec = pulse.record(pulse.devices('b').speakerMonitor);
    try {
      await sleep(300);
      // A raw client throws garbage at the signalling server A hosts.
      const { WebSocket } = await import('ws');
      const rogue = new WebSocket(url);
      const replies: { type: string; code?: string; field?: string }[] = [];
      rogue.on('message', (d) => replies.push(JSON.parse(d.toString())));
      await new Promise((r) => rogue.once('open', r));
      rogue.send('{"type": "join", oops');
      rogue.send(JSON.stringify({ type: 'offer', to: 'A', sdp: 'x'.repeat(200_000) }));
      rogue.send(JSON.stringify({ type: 'teleport' }));
      rogue.send(JSON.stringify({ type: 'join', stationId: 'rogue', name: 'Rogue', kind: 'station', lines: [{ line: 'main', secret: 'wrong' }], protocol: 1 }));
      const until = Date.now() + 3000;
      while (replies.length < 4 && Date.now() < until) await sleep(50);
      rogue.close();
      const codes = replies.filter((r) => r.type === 'error').map((r) => r.code);
      assert.deepEqual(codes, ['malformed', 'too-large', 'unknown-type', 'bad-secret'], JSON.stringify(replies));
      assert.equal(replies.find((r) => r.code === 'unknown-type')?.field, 'type');
      assert.equal(replies.find((r) => r.code === 'bad-secret')?.field, 'main');

      // An unknown device over the control API names the field; the station keeps its devices.
      await assert.rejects(c.invoke('devices.select', { outputId: 'ALSA:no-such-card#0' }), (e: { code?: string; message: string }) => /outputId.*no-such-card/.test(e.message));
      const devices = ((await c.invoke('station.getState')) as { devices: { outputId: string; outputState: string } }).devices;
      assert.deepEqual([devices.outputId, devices.outputState], [pulse.devices('c').outputId, 'ok'], 'the speaker in use is untouched');
      await sleep(2500);
      const x = await rec.stop();
      const from = 2400;
      const to = x.length - 2400;
      assert.ok(Math.abs(dominantFrequency(x, 100, 4000, from, to) - 440) <= 2, 'B still hears A');
      const gaps = silentFrames(x, -40, from, to);
      if (gaps.length > 0) {
        // Say which part dropped out: A's microphone, B's speaker, or the path between them.
        const [stateA, stateB] = (await Promise.all([a.invoke('station.getState'), b.invoke('station.getState')])) as { devices: object }[];
        const healthB = b.events.filter((e) => e.event === 'health').at(-1);
        assert.fail(`${gaps.length} silent 10 ms frames at samples ${gaps.join(', ')}; A devices ${JSON.stringify(stateA?.devices)}, B devices ${JSON.stringify(stateB?.devices)}, B health ${JSON.stringify(healthB)}`);
      }
    } finally {
      toA.stop();
    }
  } finally {
    await stopStations(stations.reverse());
  }
});

test('an unknown device id at start-up: a clear error naming the option, and a non-zero exit', async () => {
  const s = new StationProcess(['--name', 'Z', '--host', '--line', 'main', '--input', 'ALSA:no-such-card#0', '--output', pulse.devices('c').outputId], pulse.env);
  const m = await s.waitFor(/\[audio\] error (\S+) \((\w+)\): (.*)/);
  assert.equal(m[1], 'unknown-device');
  assert.equal(m[2], 'inputId');
  assert.match(m[3] as string, /no-such-card/);
  assert.equal(await s.stop(), '3');
});
