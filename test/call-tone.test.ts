// The call signal heard, not only seen: with its call tone on, a station plays two short beeps at CALL_TONE_HZ when a
// call arrives on one of its lines; with it off (the default) a call is silent; the caller hears no tone of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { onset, toneDb } from '../testkit/signal';
import { CALL_TONE_HZ } from '../electron/engine/mixer';

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a', 'b']);
});
after(async () => {
  await pulse?.stop();
});

function stationArgs(name: string, server: string[]): string[] {
  const d = pulse.devices(name.toLowerCase());
  return ['--name', name, ...server, '--line', 'main', '--input', d.serverInputId, '--output', d.serverOutputId, '--ui', '--meters-every', '0'];
}

/** What a station's speaker plays over `ms` while `during` runs at its start. */
async function heard(station: string, ms: number, during: () => Promise<unknown>): Promise<Int16Array> {
  const rec = pulse.record(pulse.devices(station).speakerMonitor);
  await sleep(300);
  await during();
  await sleep(ms);
  return rec.stop();
}

test('call tone: beeps at its frequency at the callee when on, nothing when off, nothing at the caller', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0', '--insecure']), pulse.env);
  const stations = [a];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url, '--insecure']), pulse.env);
    stations.push(b);
    await a.waitFor(/\[peer B\] connected/, 20_000);
    await sleep(500);

    // Off by default: a call lights the light and makes no sound.
    assert.equal(((await b.invoke('station.getState')) as { master: { callTone: boolean } }).master.callTone, false);
    const silent = await heard('b', 1000, () => a.invoke('line.call', { line: 'main' }));
    assert.ok(onset(silent, -50, 50) < 0, 'no sound at the callee with the call tone off');
    await b.invoke('line.answerCall', { line: 'main' });

    const on = (await b.invoke('master.setCallTone', { on: true })) as { callTone: boolean };
    assert.equal(on.callTone, true);
    const rang = await heard('b', 1000, () => a.invoke('line.call', { line: 'main' }));
    const start = onset(rang, -40, 50);
    assert.ok(start >= 0, 'the callee heard the call');
    // Inside the first 150 ms beep, after its 5 ms ramp: the tone at CALL_TONE_HZ, at its -18 dBFS (a sine: -21 dB RMS).
    const beep = toneDb(rang, CALL_TONE_HZ, start + 480, start + 480 + 4800);
    assert.ok(Math.abs(beep + 18) <= 3, `the beep is at ${CALL_TONE_HZ} Hz and -18 dBFS (${beep.toFixed(1)} dB)`);
    assert.ok(toneDb(rang, 1000, start + 480, start + 480 + 4800) < beep - 30, 'and at no other frequency');
    await b.invoke('line.answerCall', { line: 'main' });

    // The caller's own call makes no tone at the caller, whatever its setting.
    await a.invoke('master.setCallTone', { on: true });
    const own = await heard('a', 1000, () => a.invoke('line.call', { line: 'main' }));
    assert.ok(onset(own, -50, 50) < 0, 'no tone at the caller');
  } finally {
    for (const st of stations.reverse()) assert.equal(await st.stop(), '0', `${st.label} exits cleanly (last lines: ${st.tail()})`);
  }
});
