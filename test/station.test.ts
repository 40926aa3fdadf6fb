// Stations in separate processes, real PortAudio on PulseAudio virtual devices, real werift peers over loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from './support/pulse';
import { StationProcess } from './support/station-process';
import { tone, dominantFrequency, rmsDb, silentFrames, toneDb } from './support/signal';

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a', 'b', 'c']);
});
after(async () => {
  await pulse?.stop();
});

function stationArgs(name: string, server: string[], extra: string[] = []): string[] {
  const d = pulse.devices(name.toLowerCase());
  return ['--name', name, ...server, '--line', 'main:s3cret', '--input', d.inputId, '--output', d.outputId, '--ui', ...extra];
}

test('two stations, both directions at once: 440 Hz A->B and 1000 Hz B->A, right level, no dropouts', async () => {
  const a = new StationProcess(stationArgs('A', ['--host', '--port', '0'], ['--talk', 'main']), pulse.env);
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(stationArgs('B', ['--server', url], ['--talk', 'main']), pulse.env);
    try {
      await a.waitFor(/\[peer B\] connected/);
      await b.waitFor(/\[peer A\] connected/);
      const toA = pulse.inject(pulse.devices('a').micSink, tone(440, 14, -12));
      const toB = pulse.inject(pulse.devices('b').micSink, tone(1000, 14, -12));
      await sleep(1500); // settle: first packets, playout target
      const recA = pulse.record(pulse.devices('a').speakerMonitor);
      const recB = pulse.record(pulse.devices('b').speakerMonitor);
      await sleep(10_500);
      const [atA, atB] = await Promise.all([recA.stop(), recB.stop()]);
      toA.stop();
      toB.stop();
      const from = 2400;
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
      const gapsB = silentFrames(atB, -40, from, to);
      const gapsA = silentFrames(atA, -40, from, to);
      assert.deepEqual(gapsB, [], `B: ${gapsB.length} silent 10 ms frames`);
      assert.deepEqual(gapsA, [], `A: ${gapsA.length} silent 10 ms frames`);
    } finally {
      assert.equal(await b.stop(), '0', 'B exits cleanly on SIGINT');
    }
  } finally {
    assert.equal(await a.stop(), '0', 'A exits cleanly on SIGINT');
  }
});
