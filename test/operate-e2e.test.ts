// The operating screen's data between real stations (separate processes, real werift peers, PulseAudio devices),
// driven over their control WebSockets: a call flashes at the callee and ends on answer or after 10 s; each line's
// meter shows what that line plays at its volume; mic mute silences the talker and takes it off the talker list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess, stopStations } from '../testkit/station-process';
import { tone } from '../testkit/signal';

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a', 'b']);
});
after(async () => {
  await pulse?.stop();
});

type CallEvent = { line: string; from: string; name: string; on: boolean; reason?: string; by?: { stationId: string; name: string } };
type Meter = { peakDb: number; rmsDb: number };
type LineView = { line: string; talkers: { name: string }[]; members?: { stationId: string; kind: string }[]; call?: { from: string; name: string } | null };

function stationArgs(name: string, server: string[], lines: string[], extra: string[] = []): string[] {
  const d = pulse.devices(name.toLowerCase());
  return ['--name', name, ...server, ...lines.flatMap((l) => ['--line', l]), '--input', d.serverInputId, '--output', d.serverOutputId, '--ui', ...extra];
}

/** The next event of a kind (after `mark` events) that satisfies `check`; the deadline only stops a hung test. */
async function nextEvent<T>(s: StationProcess, name: string, mark: number, check: (payload: T) => boolean, timeoutMs = 20_000): Promise<{ payload: T; at: number }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = s.events.slice(mark).find((e) => e.event === name && check(e.payload as T));
    if (found) return { payload: found.payload as T, at: Date.now() };
    if (Date.now() > until) assert.fail(`${s.label}: no ${name} event as expected; last: ${JSON.stringify(s.events.filter((e) => e.event === name).slice(-3))}`);
    await sleep(20);
  }
}

/** What a line's meter settles at over the meters events of the next `ms`: the median of its peak readings. */
async function linePeak(s: StationProcess, line: string, ms: number): Promise<number> {
  const mark = s.events.length;
  await sleep(ms);
  const peaks = s.events.slice(mark).flatMap((e) => (e.event === 'meters' ? [((e.payload as { lines?: Record<string, Meter> }).lines?.[line]?.peakDb ?? Number.NaN)] : []));
  assert.ok(peaks.length > 10, `${s.label}: meters events with line ${line} arrived (${peaks.length})`);
  // A frame already in flight when a change was made reads the level before it.
  return [...peaks].sort((x, y) => x - y)[Math.floor(peaks.length / 2)] as number;
}

test('call with answer-back between two stations, line meters at their volumes, and mic mute', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0', '--insecure'], ['main', 'aux']), pulse.env);
  const stations = [a];
  const injections: { stop(): void }[] = [];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url, '--insecure'], ['main'], ['--talk', 'main']), pulse.env);
    stations.push(b);
    await a.waitFor(/\[peer B\] first RTP/, 20_000);
    await Promise.all([a.connectControl(), b.connectControl()]);

    // The roster: A sees B on main, a station; nobody on aux.
    const stateA = (await a.invoke('station.getState')) as { lines: LineView[] };
    assert.deepEqual(stateA.lines.find((l) => l.line === 'main')?.members?.map((m) => `${m.stationId}:${m.kind}`), ['B:station']);
    assert.deepEqual(stateA.lines.find((l) => l.line === 'aux')?.members, []);

    // A calls on main: B's light flashes with A's name; B answers and A hears who did.
    let markA = a.events.length;
    let markB = b.events.length;
    await a.invoke('line.call', { line: 'main' });
    const rang = await nextEvent<CallEvent>(b, 'call', markB, (c) => c.on);
    assert.deepEqual(rang.payload, { line: 'main', from: 'A', name: 'A', on: true });
    const lit = (await b.invoke('station.getState')) as { lines: LineView[] };
    assert.deepEqual(lit.lines[0]?.call, { from: 'A', name: 'A' }, "B's call light on main names the caller");
    await b.invoke('line.answerCall', { line: 'main' });
    const answered = await nextEvent<CallEvent>(a, 'call', markA, (c) => !c.on);
    assert.deepEqual(answered.payload, { line: 'main', from: 'A', name: 'A', on: false, reason: 'answered', by: { stationId: 'B', name: 'B' } });
    const out = (await b.invoke('station.getState')) as { lines: LineView[] };
    assert.equal(out.lines[0]?.call, null, "B's light went out");

    // Unanswered, the call ends by itself after 10 s, at both.
    markA = a.events.length;
    markB = b.events.length;
    await b.invoke('line.call', { line: 'main' });
    const started = await nextEvent<CallEvent>(a, 'call', markA, (c) => c.on);
    assert.equal(started.payload.name, 'B');
    const ended = await nextEvent<CallEvent>(a, 'call', markA, (c) => !c.on);
    assert.equal(ended.payload.reason, 'timeout');
    const flashedMs = ended.at - started.at;
    assert.ok(flashedMs >= 9_500 && flashedMs <= 11_500, `the call flashed for ${flashedMs} ms (10 s)`);
    assert.equal((await nextEvent<CallEvent>(b, 'call', markB, (c) => !c.on)).payload.reason, 'timeout');

    // A call on a line the station is not on: refused naming the field, nothing rings.
    markA = a.events.length;
    await assert.rejects(b.invoke('line.call', { line: 'aux' }), (e: { code?: string; field?: string }) => e.code === 'invalid' && e.field === 'line');

    // B's -12 dBFS tone on main: A's main meter reads it, aux stays silent; at volume 0.5 main reads 6 dB less.
    injections.push(pulse.inject(pulse.devices('b').micSink, tone(440, 30, -12)));
    await sleep(1500);
    const full = await linePeak(a, 'main', 1500);
    assert.ok(Math.abs(full + 12) <= 3, `A's main meter reads ${full.toFixed(1)} dBFS for B's -12 dBFS tone`);
    assert.ok((await linePeak(a, 'aux', 500)) <= -100, 'aux, where nobody talks, is silent');
    await a.invoke('line.setVolume', { line: 'main', volume: 0.5 });
    const half = await linePeak(a, 'main', 1500);
    assert.ok(Math.abs(half - full + 6.02) <= 1.5, `at volume 0.5 the main meter reads ${half.toFixed(1)} dBFS (${(half - full).toFixed(1)} dB)`);
    assert.equal(a.events.slice(markA).filter((e) => e.event === 'call').length, 0, 'the refused call rang nowhere');

    // B mutes its mic: A sees no talker on main and its meter falls silent; B's talk key stays latched.
    await b.invoke('master.setMicMute', { muted: true });
    await nextEvent<{ lines: LineView[] }>(a, 'state', markA, (s) => s.lines.find((l) => l.line === 'main')?.talkers.length === 0);
    await sleep(500);
    assert.ok((await linePeak(a, 'main', 1000)) <= -60, "A's main meter is silent while B is muted");
    const muted = (await b.invoke('station.getState')) as { lines: { talk: boolean }[]; master: { micMuted: boolean } };
    assert.deepEqual([muted.lines[0]?.talk, muted.master.micMuted], [true, true]);
    markA = a.events.length;
    await b.invoke('master.setMicMute', { muted: false });
    await nextEvent<{ lines: LineView[] }>(a, 'state', markA, (s) => s.lines.find((l) => l.line === 'main')?.talkers.length === 1);
  } finally {
    for (const i of injections) i.stop();
    await stopStations(stations.reverse());
  }
});
