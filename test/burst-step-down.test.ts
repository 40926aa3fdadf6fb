// When a real-time JavaScript thread steps down for a burst (a peer's set-up) and when it goes back to real time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BurstStepDown } from '../electron/engine/media/burst-step-down';

/** A thread whose scheduling calls are recorded, answered as `grant` and `mayDemote` say. */
function rig(grant = true, mayDemote = true) {
  const calls: string[] = [];
  let now = 0;
  let answer: ((granted: boolean) => void) | undefined;
  const thread = {
    promote: () => {
      calls.push('promote');
      return new Promise<boolean>((resolve) => (answer = resolve));
    },
    demote: () => {
      calls.push('demote');
      return mayDemote;
    },
  };
  const step = new BurstStepDown(thread, () => now);
  return {
    step,
    calls,
    at: (ms: number) => (now = ms),
    /** rtkit (or the kernel) answers the pending promotion. */
    answer: async () => {
      answer?.(grant);
      answer = undefined;
      await new Promise((r) => setImmediate(r));
    },
  };
}

test('a burst takes the thread off real time until it is over, then it goes back', async () => {
  const r = rig();
  r.step.start();
  await r.answer();
  assert.deepEqual(r.calls, ['promote']);
  assert.equal(r.step.isRealtime, true);
  r.at(1000);
  r.step.begin('peer:B', 3000);
  assert.deepEqual(r.calls, ['promote', 'demote'], 'stepped down at once');
  assert.equal(r.step.isRealtime, false);
  r.at(2500);
  r.step.begin('peer:C', 3000); // a second peer while the first is set up: the window runs from the later one
  r.at(4999);
  r.step.settle();
  assert.deepEqual(r.calls, ['promote', 'demote'], 'still stepped down 2.5 s into the second burst');
  r.at(5500);
  r.step.settle();
  await r.answer();
  assert.deepEqual(r.calls, ['promote', 'demote', 'promote'], 'back to real time once the bursts are over');
  assert.equal(r.step.isRealtime, true);
  r.at(6000);
  r.step.settle();
  assert.deepEqual(r.calls, ['promote', 'demote', 'promote'], 'nothing more while nothing happens');
});

test('a burst announced before the thread is started is waited out before real time', async () => {
  const r = rig();
  r.step.begin('peer:B', 3000);
  r.step.start();
  assert.deepEqual(r.calls, []);
  r.at(3000);
  r.step.settle();
  await r.answer();
  assert.deepEqual(r.calls, ['promote']);
});

test('a burst while real time is on its way: stepped down as soon as it is granted', async () => {
  const r = rig();
  r.step.start();
  r.step.begin('peer:B', 3000);
  assert.deepEqual(r.calls, ['promote'], 'nothing to step down from yet');
  await r.answer();
  assert.deepEqual(r.calls, ['promote', 'demote']);
  assert.equal(r.step.isRealtime, false);
});

test('real time refused: it is not asked for again after each burst', async () => {
  const r = rig(false);
  r.step.start();
  await r.answer();
  r.at(1000);
  r.step.begin('peer:B', 3000);
  r.at(5000);
  r.step.settle();
  assert.deepEqual(r.calls, ['promote']);
  assert.equal(r.step.isRealtime, false);
});

test('stepping down refused: the thread stays real-time, and it is not tried at every burst', async () => {
  const r = rig(true, false);
  r.step.start();
  await r.answer();
  r.step.begin('peer:B', 3000);
  r.step.begin('peer:C', 3000);
  r.at(5000);
  r.step.settle();
  assert.deepEqual(r.calls, ['promote', 'demote']);
  assert.equal(r.step.isRealtime, true);
});

test('a named burst ends when it is said to, a tail later, but not while another one runs', async () => {
  const r = rig();
  r.step.start();
  await r.answer();
  r.at(1000);
  r.step.begin('peer:B', 3000);
  r.step.begin('peer:C', 3000);
  assert.deepEqual(r.calls, ['promote', 'demote']);
  r.at(1200);
  r.step.end('peer:B', 300);
  r.at(1600);
  r.step.settle();
  assert.deepEqual(r.calls, ['promote', 'demote'], 'C is still being set up');
  r.step.end('peer:C', 300);
  r.at(1899);
  r.step.settle();
  assert.deepEqual(r.calls, ['promote', 'demote'], 'the tail after the last one');
  r.at(1900);
  r.step.settle();
  await r.answer();
  assert.deepEqual(
    r.calls,
    ['promote', 'demote', 'promote'],
    'real time again 300 ms after C connected, long before the ceiling',
  );
  r.step.end('peer:C', 300);
  r.step.settle();
  assert.deepEqual(r.calls, ['promote', 'demote', 'promote'], 'ending a burst twice changes nothing');
});

test('a named burst that is never ended lasts until its ceiling', async () => {
  const r = rig();
  r.step.start();
  await r.answer();
  r.step.begin('janus:main', 3000);
  r.at(2999);
  r.step.settle();
  assert.deepEqual(r.calls, ['promote', 'demote']);
  r.at(3000);
  r.step.settle();
  await r.answer();
  assert.deepEqual(r.calls, ['promote', 'demote', 'promote']);
});
