// Devices that go while on air, on real PulseAudio null sinks: a sink's module unloaded is a headset unplugged (its
// streams fail), loaded again is the headset back; the sound server killed and started again on the same runtime
// directory is a crashed desktop sound server coming back. A station with its control API, on the server's protocol,
// playing its test tone: what its control API says, and where the tone and the microphone go. Own daemon.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DeviceSelection, StationState } from '../electron/common/contract';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { tone, tonePresenceDb } from '../testkit/signal';

const TONE_HZ = 1000;
const MIC_HZ = 700;
let pulse: PulseHarness;
let station: StationProcess;
let dataDir: string;

before(async () => {
  pulse = await PulseHarness.start(['x']);
  const x = pulse.devices('x');
  dataDir = mkdtempSync(path.join(tmpdir(), 'partyline-device-loss-'));
  station = new StationProcess(['--ui', '--data-dir', dataDir, '--settings', path.join(dataDir, 'settings.json'), '--input', x.serverInputId, '--output', x.serverOutputId, '--meters-every', '0'], pulse.env, 'X');
  await station.connectControl();
  await until(async () => ok(await devices()), 'both devices open');
  await station.invoke('devices.testTone', { on: true, frequencyHz: TONE_HZ, levelDb: -12 });
});
after(async () => {
  const how = await station?.stop();
  await pulse?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(how, '0', `the station leaves cleanly: ${station?.tail()}`);
});

async function devices(): Promise<DeviceSelection> {
  return ((await station.invoke('station.getState')) as StationState).devices;
}

function ok(d: DeviceSelection): boolean {
  return d.inputState === 'ok' && d.outputState === 'ok' && !d.inputFallback && !d.outputFallback;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`never: ${what} (devices ${JSON.stringify(await devices())}; log: ${station.tail(12)})`);
    await sleep(100);
  }
}

/** The test tone's level in 1 s of what `source` plays. */
async function toneAt(source: string): Promise<number> {
  const rec = pulse.record(source);
  await sleep(1200);
  const x = await rec.stop();
  return tonePresenceDb(x, TONE_HZ, Math.max(0, x.length - 48000));
}

/** The loudest the station's microphone meter read while `sink` got a tone for 1.5 s. */
async function micHears(sink: string): Promise<number> {
  const feed = pulse.inject(sink, tone(MIC_HZ, 1.5, -12));
  // Meters from before the tone reached the station (what it heard before) are not this tone's.
  await sleep(400);
  const from = station.events.length;
  await feed.done;
  const levels = station.events.slice(from).filter((e) => e.event === 'meters').map((e) => (e.payload as { input: { rmsDb: number } }).input.rmsDb);
  return Math.max(-120, ...levels);
}

/** The `devices` events since `from` that the control API sent. */
function devicesEvents(from: number): DeviceSelection[] {
  return station.events.slice(from).filter((e) => e.event === 'devices').map((e) => (e.payload as { selection: DeviceSelection }).selection);
}

test('the speaker unplugged: the control API says so, the system default plays meanwhile, and the speaker is reopened once it is back', async () => {
  const x = pulse.devices('x');
  assert.ok((await toneAt(pulse.devices('x').speakerMonitor)) > -25, 'the tone plays on the chosen speaker');
  const from = station.events.length;
  const unplugged = await pulse.unplug('x_spk');
  await until(async () => (await devices()).outputFallback === true, 'the default stands in');
  const lost = devicesEvents(from).find((d) => d.outputState === 'missing');
  assert.ok(lost, 'a devices event reported the speaker missing');
  assert.equal(lost.outputId, x.serverOutputId, 'the choice stays what the user chose');
  assert.match(String(lost.error), /PulseAudio:x_spk#0/, 'the error names the device');
  const meanwhile = await devices();
  assert.deepEqual([meanwhile.outputId, meanwhile.outputState, meanwhile.inputState], [x.serverOutputId, 'missing', 'ok']);
  assert.ok((await toneAt('nowhere.monitor')) > -25, 'the tone plays on the system default while the speaker is gone');

  await pulse.plugBack(unplugged);
  await until(async () => ok(await devices()), 'the speaker reopened');
  const back = await devices();
  assert.deepEqual([back.outputId, back.error], [x.serverOutputId, undefined]);
  assert.ok((await toneAt(x.speakerMonitor)) > -25, 'the tone is back on the chosen speaker');
  assert.ok((await toneAt('nowhere.monitor')) < -60, 'and no longer on the default');
  assert.match(station.lines.join('\n'), /output device PulseAudio:x_spk#0 is back/);
});

test('the microphone unplugged: the control API says so, the system default is heard meanwhile, and the microphone is reopened once it is back', async () => {
  const x = pulse.devices('x');
  assert.ok((await micHears(x.micSink)) > -30, 'the chosen microphone is heard');
  const from = station.events.length;
  const unplugged = await pulse.unplug('x_mic');
  await until(async () => (await devices()).inputFallback === true, 'the default stands in');
  const lost = devicesEvents(from).find((d) => d.inputState === 'missing');
  assert.ok(lost, 'a devices event reported the microphone missing');
  assert.match(String(lost.error), /PulseAudio:x_mic\.monitor#0/);
  // The default source is the monitor of the sink `nowhere`.
  assert.ok((await micHears('nowhere')) > -30, 'the system default microphone is heard while the chosen one is gone');

  await pulse.plugBack(unplugged);
  await until(async () => ok(await devices()), 'the microphone reopened');
  assert.ok((await micHears(x.micSink)) > -30, 'the chosen microphone is heard again');
  const stray = await micHears('nowhere');
  assert.ok(stray < -60, `and the default no longer (${stray} dB; ${station.tail(10)})`);
});

test('the sound server killed and started again: both streams reopen by themselves', async () => {
  const x = pulse.devices('x');
  const from = station.events.length;
  pulse.kill();
  await until(async () => {
    const d = await devices();
    return d.inputState === 'missing' && d.outputState === 'missing';
  }, 'both reported missing');
  // With no server there is no default either: nothing stands in, and the station keeps trying.
  await sleep(1500);
  const down = await devices();
  assert.deepEqual([down.inputFallback, down.outputFallback], [undefined, undefined]);
  assert.ok(devicesEvents(from).some((d) => d.outputState === 'missing'));

  await pulse.restart();
  await until(async () => ok(await devices()), 'both reopened on the chosen devices');
  const back = await devices();
  assert.deepEqual([back.inputId, back.outputId, back.error], [x.serverInputId, x.serverOutputId, undefined]);
  assert.ok((await toneAt(x.speakerMonitor)) > -25, 'the tone plays on the chosen speaker again');
  assert.ok((await micHears(x.micSink)) > -30, 'the chosen microphone is heard again');
});
