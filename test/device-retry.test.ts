// When a lost device is tried again (electron/engine/media/device-retry.ts): at once, every second for 30 s, then
// every 5 s, per direction, until it is back or someone chooses anew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceRetry, RETRY_FAST_FOR_MS, RETRY_FAST_MS, RETRY_SLOW_MS } from '../electron/engine/media/device-retry';

test('a lost device is tried at once, every second for 30 s, then every 5 s, until it is back', () => {
  const r = new DeviceRetry();
  assert.equal(r.active, false);
  r.lost('output', 1000);
  assert.equal(r.active, true);
  assert.deepEqual(r.due(1000), ['output'], 'at once');
  assert.deepEqual(r.due(1000 + RETRY_FAST_MS - 1), [], 'not again within the second');
  assert.deepEqual(r.due(1000 + RETRY_FAST_MS), ['output']);
  // Tried every second while young.
  let tries = 0;
  for (let t = 1000 + 2 * RETRY_FAST_MS; t <= 1000 + RETRY_FAST_FOR_MS; t += RETRY_FAST_MS) tries += r.due(t).length;
  assert.equal(tries, RETRY_FAST_FOR_MS / RETRY_FAST_MS - 1);
  // Older: every 5 s.
  const old = 1000 + RETRY_FAST_FOR_MS;
  assert.deepEqual(r.due(old + RETRY_FAST_MS), [], 'no longer every second');
  assert.deepEqual(r.due(old + RETRY_SLOW_MS), ['output']);
  r.settled('output');
  assert.equal(r.active, false);
  assert.deepEqual(r.due(old + 10 * RETRY_SLOW_MS), [], 'back: no more tries');
});

test('each direction keeps its own age; a second loss while retrying is due at once but keeps the first one\'s age', () => {
  const r = new DeviceRetry();
  r.lost('input', 0);
  assert.deepEqual(r.due(0), ['input']);
  r.lost('output', 20_000);
  assert.deepEqual(r.due(20_000), ['input', 'output'], 'the output at once; the input, overdue, at the next look');
  // The input, lost again at 40 s, is due at once, but it is 40 s old: slow tries after. The output, 20 s old, is fast.
  r.lost('input', 40_000);
  assert.deepEqual(r.due(40_000), ['input', 'output']);
  assert.deepEqual(r.due(41_000), ['output']);
  assert.equal(r.pending('input'), true);
  assert.deepEqual(r.due(45_000), ['input', 'output']);
  r.settled('input');
  assert.equal(r.pending('input'), false);
  assert.equal(r.active, true, 'the output is still being tried');
});
