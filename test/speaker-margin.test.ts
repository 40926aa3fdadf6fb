// The speaker's margin on its own: sized from the drains it is shown, the way the playout sizes its target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeakerMargin } from '../native/bridge/speaker-margin';

const ms = (n: number) => n * 48;
const margin = () => new SpeakerMargin({ sampleRate: 48000, chunkSamples: ms(10), capacitySamples: ms(160), initialSamples: ms(20) });

test('the margin covers the deepest drain seen, a chunk and 2 ms, at once, when the queue came near running short', () => {
  const m = margin();
  assert.equal(m.reading().marginMs, 20, 'two chunks before anything was measured');
  m.observe(ms(20), ms(17), false, 0);
  assert.equal(m.reading().marginMs, 20, 'a shallow drain keeps what was there');
  m.observe(ms(20), ms(5), false, 10);
  assert.equal(m.reading().marginMs, 20, 'a deeper drain that left 5 ms: no rise (a rise costs an early pull)');
  m.observe(ms(20), ms(1), false, 20);
  assert.deepEqual(m.reading(), { marginMs: 31, drainMs: 19 }, 'a drain that left 1 ms, under the safety: covered');
  // An underrun: the drain was at least what the queue held and a chunk more.
  m.observe(ms(31), 0, true, 30);
  assert.deepEqual(m.reading(), { marginMs: 53, drainMs: 41 });
});

test('it holds for 15 s, then comes down by 2 ms a second to what the machine still does', () => {
  const m = margin();
  m.observe(ms(30), ms(0), false, 0);
  assert.equal(m.reading().drainMs, 30);
  for (let t = 10; t <= 15000; t += 10) m.observe(ms(42), ms(38), false, t);
  assert.equal(m.reading().drainMs, 30, 'held through the calm');
  for (let t = 15010; t <= 20000; t += 10) m.observe(ms(42), ms(38), false, t);
  assert.ok(Math.abs(m.reading().drainMs - 20) < 0.1, `2 ms a second after the hold: ${m.reading().drainMs}`);
  for (let t = 20010; t <= 40000; t += 10) m.observe(ms(42), ms(38), false, t);
  assert.ok(Math.abs(m.reading().drainMs - 6) < 0.01, `down to the 4 ms drain it still sees and the 2 ms safety above it, no lower: ${m.reading().drainMs}`);
});

test('a known busy moment is covered ahead and forgotten after; the margin never exceeds its cap', () => {
  const m = margin();
  m.observe(ms(20), ms(16), false, 0);
  m.expectBusy(40, 3000, 100);
  assert.equal(m.reading().marginMs, 52, 'covers the announced 40 ms');
  m.observe(ms(52), 0, true, 200);
  m.observe(ms(52), ms(46), false, 3200);
  assert.equal(m.reading().drainMs, 8, 'nothing from the busy moment was learned');
  m.observe(ms(20), 0, true, 3300);
  m.observe(ms(60), 0, true, 3310);
  assert.equal(m.reading().marginMs, 60, 'capped at 60 ms');
});

test('a start-up keeps the drains it saw, as far as it covered them, and lets them come down like any other', () => {
  const m = margin();
  m.expectBusy(20, 1500, 0, 20);
  assert.equal(m.reading().marginMs, 32, 'the start-up covers 20 ms');
  m.observe(ms(32), ms(15), false, 100);
  m.observe(ms(32), ms(5), false, 200);
  m.observe(ms(32), 0, true, 300);
  m.observe(ms(32), ms(22), false, 1600);
  assert.deepEqual(m.reading(), { marginMs: 32, drainMs: 20 }, 'the 27 ms drain seen at start-up, kept to the 20 ms covered');
  for (let t = 1610; t <= 16500; t += 10) m.observe(ms(32), ms(24), false, t);
  assert.equal(m.reading().drainMs, 20, 'held through the calm');
  for (let t = 16510; t <= 40000; t += 10) m.observe(ms(32), ms(24), false, t);
  assert.ok(Math.abs(m.reading().drainMs - 10) < 0.01, `then down to the 8 ms drain it still sees and the safety: ${m.reading().drainMs}`);

  const calm = margin();
  calm.expectBusy(20, 1500, 0, 20);
  for (let t = 10; t <= 1600; t += 10) calm.observe(ms(32), ms(26), false, t);
  assert.deepEqual(calm.reading(), { marginMs: 20, drainMs: 8 }, 'a calm start-up keeps nothing beyond the start');
});

test('a rise is filled a chunk at a time, one chunk per 20 ms; a fall at once', () => {
  const m = margin();
  assert.equal(m.fillTarget(0), ms(20), 'the first fill goes to the target at once: nothing plays yet');
  m.expectBusy(40, 3000, 5);
  const fills = [5, 10, 25, 30, 45, 65, 85].map((t) => m.fillTarget(t) / 48);
  assert.deepEqual(fills, [30, 30, 40, 40, 50, 52, 52], 'no two early pulls of the mixer within 20 ms');
  m.observe(ms(52), ms(40), false, 3100);
  assert.equal(m.fillTarget(3100), ms(20), 'the busy moment over: back down at once');
});
