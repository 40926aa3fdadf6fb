// Private (point-to-point) talk between real stations (separate processes, real werift peers, PulseAudio devices):
// the target hears the talker though it listens to no line, a third station on the same line hears nothing, and the
// target's reply key talks back to the talker alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess, stopStations } from '../testkit/station-process';
import { rmsDb, tone, toneDb, tonePresenceDb } from '../testkit/signal';

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a', 'b', 'c']);
});
after(async () => {
  await pulse?.stop();
});

function stationArgs(name: string, server: string[]): string[] {
  const d = pulse.devices(name.toLowerCase());
  return ['--name', name, ...server, '--line', 'main', '--input', d.serverInputId, '--output', d.serverOutputId, '--ui'];
}

async function listen(station: string, ms: number): Promise<{ x: Int16Array; from: number; to: number }> {
  const rec = pulse.record(pulse.devices(station).speakerMonitor);
  await sleep(ms);
  const x = await rec.stop();
  return { x, from: 4800, to: x.length - 2400 };
}

type Direct = { talkingTo: { stationId: string }[]; incoming: { stationId: string; name: string }[]; replyTo: { stationId: string; name: string } | null };

test('private talk: A to B alone, heard though B listens to no line, not heard by C; B replies to A alone', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0', '--insecure']), pulse.env);
  const stations = [a];
  const injections: { stop(): void }[] = [];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url, '--insecure']), pulse.env);
    const c = new StationProcess(stationArgs('C', ['--server', url, '--insecure']), pulse.env);
    stations.push(b, c);
    for (const [s, peers] of [[a, ['B', 'C']], [b, ['A', 'C']], [c, ['A', 'B']]] as const) {
      for (const p of peers) await s.waitFor(new RegExp(`\\[peer ${p}\\] connected`), 20_000);
    }
    injections.push(pulse.inject(pulse.devices('a').micSink, tone(440, 40, -12)));
    injections.push(pulse.inject(pulse.devices('b').micSink, tone(1000, 40, -12)));

    // B listens to no line; A talks to B alone.
    await b.invoke('line.setListen', { line: 'main', on: false });
    const sent = (await a.invoke('talk.direct', { stationId: 'B', on: true })) as Direct;
    assert.deepEqual(sent.talkingTo.map((t) => t.stationId), ['B']);
    await b.waitFor(/\[direct\] A talks to us/);
    await sleep(1000); // first packets, playout target
    const [atB, atC] = await Promise.all([listen('b', 2000), listen('c', 2000)]);
    const heard = tonePresenceDb(atB.x, 440, atB.from, atB.to);
    assert.ok(heard > -25, `B hears A's private talk (${heard.toFixed(1)} dB)`);
    // -12 dBFS peak sine = -15.05 dBFS RMS: played at full volume.
    assert.ok(Math.abs(rmsDb(atB.x, atB.from, atB.to) + 15.05) <= 3, `at ${rmsDb(atB.x, atB.from, atB.to).toFixed(1)} dBFS`);
    const leaked = toneDb(atC.x, 440, atC.from, atC.to);
    assert.ok(leaked < -60, `C, on the same line, hears nothing of it (${leaked.toFixed(1)} dB)`);
    const atBState = (await b.invoke('station.getState')) as { direct: Direct };
    assert.deepEqual(atBState.direct.incoming, [{ stationId: 'A', name: 'A' }], 'B sees who talks to it');
    assert.deepEqual(atBState.direct.replyTo, { stationId: 'A', name: 'A' });

    // A stops and listens to no line either; B's reply key talks back to A alone.
    await a.invoke('talk.direct', { stationId: 'B', on: false });
    await a.invoke('line.setListen', { line: 'main', on: false });
    await b.waitFor(/\[direct\] A stopped talking to us/);
    const replied = (await b.invoke('talk.reply', { on: true })) as Direct;
    assert.deepEqual(replied.talkingTo.map((t) => t.stationId), ['A']);
    await a.waitFor(/\[direct\] B talks to us/);
    await sleep(1000);
    const [atA2, atC2, atB2] = await Promise.all([listen('a', 2000), listen('c', 2000), listen('b', 2000)]);
    const reply = tonePresenceDb(atA2.x, 1000, atA2.from, atA2.to);
    assert.ok(reply > -25, `A hears B's reply (${reply.toFixed(1)} dB)`);
    assert.ok(toneDb(atC2.x, 1000, atC2.from, atC2.to) < -60, 'C hears nothing of the reply');
    assert.ok(toneDb(atB2.x, 440, atB2.from, atB2.to) < -60, 'B no longer hears A, whose private talk ended');

    // Bad input: an unknown station is named; nothing changes.
    await assert.rejects(a.invoke('talk.direct', { stationId: 'nobody', on: true }), (e: { code?: string; field?: string }) => e.code === 'invalid' && e.field === 'stationId');
    const after = (await a.invoke('station.getState')) as { direct: Direct };
    assert.deepEqual(after.direct.talkingTo, []);
  } finally {
    for (const i of injections) i.stop();
    await stopStations(stations.reverse());
  }
});
