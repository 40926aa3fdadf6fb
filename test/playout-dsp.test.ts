/** The playout buffer's time-stretch and repetition primitives on a pure tone: exact lengths, no seams. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accelerate, findPeriod, preemptiveExpand } from '../electron/engine/playout/dsp';
import { PitchRepeat } from '../electron/engine/playout/pitch-repeat';
import { SyncBuffer } from '../electron/engine/playout/sync-buffer';
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

test('a pitch repeat continues a 440 Hz tone without a seam, and hands over where the next audio lines up', () => {
  const x = tone(960, 0);
  const repeat = new PitchRepeat();
  assert.equal(repeat.begin(x, 0, 150), false, 'too little to hold two periods');
  assert.equal(repeat.active, false);
  assert.equal(repeat.begin(x, 0, 960), true);
  // The repetition, written after what was played, against the tone itself.
  const out = new Int16Array(960 + 480);
  out.set(x);
  repeat.fill(out, 960, 480);
  assert.ok(maxStep(out, out.length) <= NATURAL_STEP * 1.1, `max step across the seam ${maxStep(out, out.length)}`);
  // The tone's own continuation, shifted by half a period (as after a slip): the hand-over plays on to where it
  // lines up, so a cross-fade from the repetition into it adds instead of cancelling.
  const shifted = new Int16Array(240);
  for (let n = 0; n < 240; n++)
    shifted[n] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * 440 * (n + 1440 + 54.5)) / RATE));
  const extra = repeat.alignment(shifted, 240);
  assert.ok(extra < 109, `less than a period (${extra})`);
  const skip = new Int16Array(extra);
  repeat.fill(skip, 0, extra);
  const from = new Int16Array(240);
  repeat.fill(from, 0, 240);
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < 240; i++) {
    xy += from[i]! * shifted[i]!;
    xx += from[i]! * from[i]!;
    yy += shifted[i]! * shifted[i]!;
  }
  assert.ok(
    xy / Math.sqrt(xx * yy) > 0.99,
    `in phase after ${extra} samples (correlation ${(xy / Math.sqrt(xx * yy)).toFixed(3)})`,
  );
});

test('the sync buffer keeps the newest played samples readable across compaction, up to what it was told to keep', () => {
  const sync = new SyncBuffer(1000, 300);
  const out = new Int16Array(100);
  for (let k = 0; k < 40; k++) {
    const chunk = new Int16Array(100);
    for (let i = 0; i < 100; i++) chunk[i] = k * 100 + i;
    sync.append(chunk);
    sync.read(out, 0, 100);
    assert.equal(sync.available, 0);
    const held = sync.recent(300);
    assert.equal(held, Math.min(300, (k + 1) * 100), `after ${k + 1} chunks`);
    for (let i = 0; i < held; i++) assert.equal(sync.samples[sync.end - held + i], (k + 1) * 100 - held + i);
  }
  sync.clear();
  assert.equal(sync.recent(300), 0, 'nothing held after clear');
});
