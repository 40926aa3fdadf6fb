// Delay peaks on their own: which late packets make a pattern the playout's target must cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelayPeaks } from '../electron/engine/playout/delay-peaks';

/** Packets every 10 ms from `fromMs` with the given delays above the fastest transit. */
function feed(p: DelayPeaks, fromMs: number, delays: number[], spreadMs = 2): number {
  delays.forEach((d, i) => p.observe(d, spreadMs, fromMs + 10 * i));
  return fromMs + 10 * delays.length;
}

test('one late packet is not a pattern; a second within 30 s is, and the target covers the highest of the last 30 s', () => {
  const p = new DelayPeaks();
  feed(p, 0, [1, 2, 25, 1]);
  assert.equal(p.coverMs, 0, 'a single peak');
  feed(p, 10_000, [1, 18, 2]);
  assert.equal(p.coverMs, 25, 'two peaks: the higher is covered');
  feed(p, 35_000, [1, 12, 1]);
  assert.equal(p.coverMs, 18, 'the first aged out; the second and third cover the higher of them');
  feed(p, 64_000, [1]);
  assert.equal(p.coverMs, 0, 'one left in the last 30 s: no pattern any more');
});

test('the packets held up behind a late one are one peak; a backlog after an outage is none', () => {
  const p = new DelayPeaks();
  feed(p, 0, [30, 20, 10, 1, 40, 30, 20, 1]);
  assert.equal(p.coverMs, 40, 'two runs, two peaks, the first of each the highest');
  const q = new DelayPeaks();
  // A 500 ms stall: one packet 500 ms late, then the backlog it held at 490, 480, ... down to the usual.
  feed(q, 0, [1, ...Array.from({ length: 50 }, (_, i) => 500 - 10 * i), 1, 1]);
  assert.equal(q.coverMs, 0, 'an outage is caught up from, not covered');
});

test('lateness within the usual spread is no peak', () => {
  const p = new DelayPeaks();
  feed(p, 0, [12, 1, 12, 1, 12], 9);
  assert.equal(p.coverMs, 0, 'under the spread and 5 ms');
  feed(p, 100, [1, 15, 1, 15], 9);
  assert.equal(p.coverMs, 15);
});
