// electron/engine/meter.ts, on real audio buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LevelMeter } from '../electron/engine/meter';
import { tone } from '../testkit/signal';

test('meter: a -12 dBFS sine reads -12 dBFS peak and -15 dBFS RMS; silence reads the floor; read() resets', () => {
  const m = new LevelMeter();
  m.feed(tone(1000, 0.1, -12));
  const r = m.read();
  assert.ok(Math.abs(r.peakDb + 12) < 0.1, `peak ${r.peakDb}`);
  assert.ok(Math.abs(r.rmsDb + 15.05) < 0.1, `rms ${r.rmsDb}`);
  assert.deepEqual(m.read(), { peakDb: -120, rmsDb: -120 });
});
