// Joining and leaving a line on air (station.setLines, the protocol's `lines`) between real stations: the call on the
// line that stays is untouched, so its audio plays on without a gap, and the other line's audio goes and comes back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { silentFrames, tone, toneDb, tonePresenceDb } from '../testkit/signal';

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a', 'b', 'c']);
});
after(async () => {
  await pulse?.stop();
});

function stationArgs(name: string, server: string[], lines: string[], extra: string[] = []): string[] {
  const d = pulse.devices(name.toLowerCase());
  return ['--name', name, ...server, ...lines.flatMap((l) => ['--line', l]), '--input', d.serverInputId, '--output', d.serverOutputId, '--ui', ...extra];
}

test('leaving and rejoining a line on air: the other line plays on gap-free throughout, the left line goes silent and comes back', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0', '--insecure'], ['main', 'aux']), pulse.env);
  const stations = [a];
  const injections: { stop(): void }[] = [];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url, '--insecure'], ['main'], ['--talk', 'main']), pulse.env);
    const c = new StationProcess(stationArgs('C', ['--server', url, '--insecure'], ['aux'], ['--talk', 'aux']), pulse.env);
    stations.push(b, c);
    await a.waitFor(/\[peer B\] first RTP/, 20_000);
    await a.waitFor(/\[peer C\] first RTP/, 20_000);
    injections.push(pulse.inject(pulse.devices('b').micSink, tone(440, 40, -12)));
    injections.push(pulse.inject(pulse.devices('c').micSink, tone(1000, 40, -12)));
    await sleep(1500);

    const rec = pulse.record(pulse.devices('a').speakerMonitor);
    const recordedFrom = Date.now();
    await sleep(2000);
    const left = (await a.invoke('station.setLines', { lines: [{ line: 'main' }] })) as { connection: string; lines: { line: string }[] };
    assert.deepEqual([left.connection, left.lines.map((l) => l.line)], ['joined', ['main']], 'on air throughout');
    await a.waitFor(/\[peer C\] closed/);
    await sleep(2500);
    const rejoinAt = (Date.now() - recordedFrom) / 1000;
    await a.invoke('station.setLines', { lines: [{ line: 'main' }, { line: 'aux' }] });
    await sleep(4000);
    const x = await rec.stop();

    const s = (sec: number) => Math.round(sec * 48000);
    // B's 440 Hz on main: not one silent 10 ms frame while A leaves aux and plays on without it.
    const gaps = silentFrames(x, -40, s(0.5), s(rejoinAt - 0.1));
    assert.deepEqual(gaps, [], `main played on without a gap (silent frames at ${gaps.join(', ')})`);
    // Rejoining sets up a new peer (C), and the speaker queues further ahead to cover its handshake: main plays on.
    const joinGaps = silentFrames(x, -40, s(rejoinAt - 0.1), x.length - s(0.2));
    assert.deepEqual(joinGaps, [], `main played on without a gap while C joined (silent frames at ${joinGaps.map((g) => (g / 48000 - rejoinAt).toFixed(2)).join(', ')} s after the rejoin)`);
    const before1000 = tonePresenceDb(x, 1000, s(0.5), s(1.8));
    const during1000 = toneDb(x, 1000, s(3), s(4.3));
    const after1000 = tonePresenceDb(x, 1000, x.length - s(1.5), x.length - s(0.2));
    assert.ok(before1000 > -25, `aux heard before (${before1000.toFixed(1)} dB)`);
    assert.ok(during1000 < -60, `aux silent after leaving it (${during1000.toFixed(1)} dB)`);
    assert.ok(after1000 > -25, `aux heard again after rejoining (${after1000.toFixed(1)} dB)`);
    assert.equal(a.lines.filter((l) => /\[peer B\] closed/.test(l)).length, 0, 'the call with B was never torn down');
  } finally {
    for (const i of injections) i.stop();
    for (const st of stations.reverse()) assert.equal(await st.stop(), '0', `${st.label} exits cleanly (last lines: ${st.tail()})`);
  }
});

test('two lines at once, at different volumes: each line is heard on the speaker at its own level', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0', '--insecure'], ['main', 'aux']), pulse.env);
  const stations = [a];
  const injections: { stop(): void }[] = [];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url, '--insecure'], ['main'], ['--talk', 'main']), pulse.env);
    const c = new StationProcess(stationArgs('C', ['--server', url, '--insecure'], ['aux'], ['--talk', 'aux']), pulse.env);
    stations.push(b, c);
    await a.waitFor(/\[peer B\] first RTP/, 20_000);
    await a.waitFor(/\[peer C\] first RTP/, 20_000);
    // -12 dBFS peak tones: B's 440 Hz on main, C's 1000 Hz on aux.
    injections.push(pulse.inject(pulse.devices('b').micSink, tone(440, 30, -12)));
    injections.push(pulse.inject(pulse.devices('c').micSink, tone(1000, 30, -12)));
    await a.invoke('line.setVolume', { line: 'main', volume: 1 });
    await a.invoke('line.setVolume', { line: 'aux', volume: 0.25 });
    await sleep(1500);
    const rec = pulse.record(pulse.devices('a').speakerMonitor);
    await sleep(3000);
    const x = await rec.stop();
    const from = 4800;
    const to = x.length - 2400;
    const main = tonePresenceDb(x, 440, from, to);
    const aux = tonePresenceDb(x, 1000, from, to);
    assert.ok(Math.abs(main + 12) <= 2, `main at volume 1: B's tone at -12 dBFS (${main.toFixed(1)})`);
    assert.ok(Math.abs(aux + 24) <= 2, `aux at volume 0.25: C's tone 12 dB down, at -24 dBFS (${aux.toFixed(1)})`);

    // Turned the other way round, each line follows its own volume.
    await a.invoke('line.setVolume', { line: 'main', volume: 0.5 });
    await a.invoke('line.setVolume', { line: 'aux', volume: 1 });
    await sleep(500);
    const rec2 = pulse.record(pulse.devices('a').speakerMonitor);
    await sleep(3000);
    const y = await rec2.stop();
    const main2 = tonePresenceDb(y, 440, from, y.length - 2400);
    const aux2 = tonePresenceDb(y, 1000, from, y.length - 2400);
    assert.ok(Math.abs(main2 + 18) <= 2, `main at volume 0.5: -18 dBFS (${main2.toFixed(1)})`);
    assert.ok(Math.abs(aux2 + 12) <= 2, `aux at volume 1: -12 dBFS (${aux2.toFixed(1)})`);
  } finally {
    for (const i of injections) i.stop();
    for (const st of stations.reverse()) assert.equal(await st.stop(), '0', `${st.label} exits cleanly (last lines: ${st.tail()})`);
  }
});
