/** The playout buffer's time-stretch primitives on a pure tone: exact lengths, no seams. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accelerate, findPeriod, preemptiveExpand } from '../electron/engine/playout/dsp';
import { SAMPLE_RATE as RATE } from '../native/audio-format';

const AMPLITUDE = 8000;
/** Largest sample step of a 440 Hz tone at this amplitude: 2*pi*f/fs*A, about 461. */
const NATURAL_STEP = (2 * Math.PI * 440 * AMPLITUDE) / RATE;

function tone(samples: number, room: number): Int16Array {
  const x = new Int16Array(samples + room);
  for (let n = 0; n < samples; n++) x[n] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * 440 * n) / RATE));
  return x;
}

function maxStep(x: Int16Array, end: number): number {
  let m = 0;
  for (let n = 1; n < end; n++) m = Math.max(m, Math.abs(x[n]! - x[n - 1]!));
  return m;
}

test('findPeriod finds the period of a 440 Hz tone (109 samples) with near-perfect correlation', () => {
  const x = tone(960, 0);
  const match = findPeriod(x, 0, 96, 240, { lag: 0, correlation: 0 });
  assert.ok(Math.abs(match.lag - 48000 / 440) < 1, `lag ${match.lag}`);
  assert.ok(match.correlation > 0.99, `correlation ${match.correlation}`);
});

test('accelerate removes exactly one period and preemptive expand adds one, without a seam', () => {
  const lag = 109;
  const shortened = tone(960, 0);
  const end = accelerate(shortened, 0, 960, lag);
  assert.equal(end, 960 - lag);
  assert.ok(maxStep(shortened, end) <= NATURAL_STEP * 1.05, `accelerated max step ${maxStep(shortened, end)}`);

  const lengthened = tone(960, lag);
  const end2 = preemptiveExpand(lengthened, 0, 960, lag);
  assert.equal(end2, 960 + lag);
  assert.ok(maxStep(lengthened, end2) <= NATURAL_STEP * 1.05, `expanded max step ${maxStep(lengthened, end2)}`);
  // The stretched tone is still the tone: its last sample is the original's last, shifted by one period.
  const original = tone(960, 0);
  assert.ok(Math.abs(lengthened[end2 - 1]! - original[959]!) <= 1);
});
