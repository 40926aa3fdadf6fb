// electron/engine/mixer.ts, on real audio buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LevelMeter } from '../electron/engine/meter';
import { Mixer, type MixerInput } from '../electron/engine/mixer';
import { tone, toneDb, rmsDb } from '../testkit/signal';

function input(pcm: Int16Array, gain: number): MixerInput & { pulls: number } {
  let at = 0;
  const x = {
    pulls: 0,
    meter: new LevelMeter(),
    gain: () => gain,
    pull: (n: number) => {
      x.pulls++;
      const out = pcm.slice(at, at + n);
      at += n;
      return out.length === n ? out : new Int16Array(n);
    },
  };
  return x;
}

test('mixer: sums inputs at their gains, pulls muted inputs too, and limits instead of wrapping', () => {
  const mixer = new Mixer(() => 0);
  const a = input(tone(440, 1, -12), 1);
  const b = input(tone(1000, 1, -12), 0.5);
  const muted = input(tone(2000, 1, -6), 0);
  mixer.inputs.add(a).add(b).add(muted);
  const out = new Int16Array(48000);
  for (let i = 0; i < 100; i++) out.set(mixer.pull(480), i * 480);
  assert.ok(Math.abs(toneDb(out, 440) + 12) < 0.3, '440 Hz at gain 1');
  assert.ok(Math.abs(toneDb(out, 1000) + 18) < 0.3, '1000 Hz at gain 0.5 (-6 dB)');
  assert.ok(toneDb(out, 2000) < -80, 'a muted input is not heard');
  assert.equal(muted.pulls, 100, 'but it is pulled every tick, so it keeps its own time');

  const loud = new Mixer(() => 0);
  loud.inputs.add(input(tone(300, 1, 0), 1)).add(input(tone(300, 1, 0), 1));
  const clipped = loud.pull(4800);
  let max = 0;
  for (const v of clipped) max = Math.max(max, Math.abs(v));
  assert.ok(max <= 32767 && max > 30000, `two full-scale talkers are limited, not wrapped (max ${max})`);
});

test('mixer: the test tone plays at its frequency and level on an otherwise silent output', () => {
  const mixer = new Mixer(() => 0);
  mixer.setTestTone(true, 1000, -18);
  const out = new Int16Array(48000);
  for (let i = 0; i < 100; i++) out.set(mixer.pull(480), i * 480);
  assert.ok(Math.abs(toneDb(out, 1000) + 18) < 0.3);
  mixer.setTestTone(false);
  assert.ok(rmsDb(mixer.pull(480)) < -100);
});

test('mixer: each line bus meters what that line plays at its gain; the master volume scales the speaker, not the line meters', () => {
  const mixer = new Mixer(() => 0);
  const a = input(tone(440, 1, -12), 1);
  const b = input(tone(1000, 1, -12), 1);
  mixer.inputs.add(a).add(b);
  const main = { meter: new LevelMeter(), gain: (x: MixerInput) => (x === a ? 1 : 0) };
  const aux = { meter: new LevelMeter(), gain: (x: MixerInput) => (x === b ? 0.5 : 0) };
  const quiet = { meter: new LevelMeter(), gain: () => 0 };
  mixer.buses.add(main).add(aux).add(quiet);
  mixer.masterGain = 0.5;
  const out = new Int16Array(48000);
  for (let i = 0; i < 100; i++) out.set(mixer.pull(480), i * 480);
  // -12 dBFS peak sine: -15.05 dBFS RMS.
  assert.ok(Math.abs(main.meter.read().rmsDb + 15.05) < 0.2, 'main plays A at volume 1');
  assert.ok(Math.abs(aux.meter.read().rmsDb + 21.07) < 0.2, 'aux plays B at volume 0.5 (-6 dB)');
  assert.equal(quiet.meter.read().peakDb, -120, 'a line nobody talks on is silent');
  assert.ok(Math.abs(toneDb(out, 440) + 18) < 0.3, 'the speaker has A at master 0.5 (-6 dB)');
  assert.ok(Math.abs(toneDb(out, 1000) + 18) < 0.3);
});
