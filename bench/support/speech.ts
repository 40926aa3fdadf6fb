/**
 * Speech for the benches that need a talker's real voice (espeak-ng, resampled with sox), and the lag of a recorded
 * far end behind it by cross-correlation in windows: how a bench measures latency while the voice keeps flowing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RATE } from './chirp';

/** Cue calls, as a stage manager gives them: varied phonemes and natural pauses, so no lag is ambiguous. */
const CALLS =
  'Stand by lights ninety four. Lights ninety four, go. Sound, stand by cue twelve. ' +
  'Follow spot two, pick up the stage left entrance. Cameras three and four, hold your shots. Sound cue twelve, go.';

/** Speech at 48 kHz mono, peaks at -6 dBFS, looped to `seconds`. Needs espeak-ng and sox on the PATH. */
export function loopedSpeech(seconds: number): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'partyline-speech-'));
  try {
    const wav = join(dir, 'calls.wav');
    const raw = join(dir, 'calls.raw');
    execFileSync('espeak-ng', ['-w', wav, CALLS]);
    execFileSync('sox', [wav, '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', raw, 'norm', '-6']);
    const bytes = readFileSync(raw);
    const once = new Int16Array(bytes.length >> 1);
    for (let i = 0; i < once.length; i++) once[i] = bytes.readInt16LE(i * 2);
    if (once.length === 0) throw new Error('espeak-ng produced no audio');
    const out = new Int16Array(Math.round(seconds * RATE));
    for (let at = 0; at < out.length; at += once.length) out.set(once.subarray(0, Math.min(once.length, out.length - at)), at);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WindowLag {
  /** Where the window starts in the reference, in samples. */
  at: number;
  lagMs: number;
  score: number;
}

export interface WindowLagOptions {
  windowMs?: number;
  maxLagMs?: number;
  /** Windows quieter than this in the reference (pauses between calls) are skipped. */
  minDb?: number;
  /** At most this many windows, spread evenly over [from, to): the correlation is the costly part. */
  maxWindows?: number;
  /** The weakest normalised correlation still trusted (a dropout or a concealment can smear a window). */
  minScore?: number;
}

const DECIMATE = 6;

/**
 * The far end's lag behind the reference in windows of [from, to): a normalised cross-correlation at 8 kHz over
 * [0, maxLagMs], refined at 48 kHz around its peak. A whole window of speech, unlike a single vowel, has one clear
 * peak; a lag that drifts within the window (the playout stretching) only flattens it.
 */
export function windowLags(ref: Float32Array, far: Float32Array, from: number, to: number, options: WindowLagOptions = {}): WindowLag[] {
  const win = Math.round((RATE * (options.windowMs ?? 1000)) / 1000);
  const maxLag = Math.round((RATE * (options.maxLagMs ?? 500)) / 1000);
  const minDb = options.minDb ?? -35;
  const minScore = options.minScore ?? 0.5;
  const last = Math.min(to, far.length) - win - maxLag;
  if (last < from) return [];
  const fits = Math.floor((last - from) / win) + 1;
  const stride = win * Math.max(1, Math.ceil(fits / (options.maxWindows ?? 60)));
  const ref8 = decimate(ref, from, last + win);
  const far8 = decimate(far, from, last + win + maxLag);
  const win8 = Math.floor(win / DECIMATE);
  const maxLag8 = Math.floor(maxLag / DECIMATE);
  const out: WindowLag[] = [];
  for (let s = from; s <= last; s += stride) {
    if (levelDb(ref, s, s + win) < minDb) continue;
    const s8 = Math.floor((s - from) / DECIMATE);
    const coarse = bestLag(ref8, far8, s8, win8, 0, maxLag8);
    if (coarse.score < minScore) continue;
    const fine = bestLag(ref, far, s, win, Math.max(0, coarse.lag * DECIMATE - DECIMATE - 2), Math.min(maxLag, coarse.lag * DECIMATE + DECIMATE + 2));
    out.push({ at: s, lagMs: (fine.lag * 1000) / RATE, score: fine.score });
  }
  return out;
}

function bestLag(ref: Float32Array, far: Float32Array, at: number, len: number, lo: number, hi: number): { lag: number; score: number } {
  let refEnergy = 0;
  for (let i = at; i < at + len; i++) refEnergy += (ref[i] as number) ** 2;
  // The far end's energy under the window, slid along with the lag instead of summed again for each.
  let farEnergy = 0;
  for (let i = at + lo; i < at + lo + len; i++) farEnergy += (far[i] ?? 0) ** 2;
  let best = { lag: lo, score: -1 };
  for (let lag = lo; lag <= hi; lag++) {
    let dot = 0;
    const off = at + lag;
    for (let i = 0; i < len; i++) dot += (ref[at + i] as number) * (far[off + i] ?? 0);
    const score = farEnergy > 0 && refEnergy > 0 ? dot / Math.sqrt(refEnergy * farEnergy) : 0;
    if (score > best.score) best = { lag, score };
    const leaving = far[off] ?? 0;
    const entering = far[off + len] ?? 0;
    farEnergy += entering * entering - leaving * leaving;
  }
  return best;
}

/** [from, to) low-passed below 3.4 kHz (Hann-windowed sinc) and kept every 6th sample: 8 kHz. */
function decimate(x: Float32Array, from: number, to: number): Float32Array {
  const taps = 49;
  const half = (taps - 1) / 2;
  const fc = 3400 / RATE;
  const h = new Float32Array(taps);
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const n = i - half;
    const sinc = n === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * n) / (Math.PI * n);
    h[i] = sinc * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)));
    sum += h[i] as number;
  }
  for (let i = 0; i < taps; i++) h[i] = (h[i] as number) / sum;
  const out = new Float32Array(Math.max(0, Math.floor((to - from) / DECIMATE)));
  for (let o = 0; o < out.length; o++) {
    const c = from + o * DECIMATE;
    let acc = 0;
    for (let i = 0; i < taps; i++) acc += (h[i] as number) * (x[c + i - half] ?? 0);
    out[o] = acc;
  }
  return out;
}

function levelDb(x: Float32Array, from: number, to: number): number {
  let e = 0;
  for (let i = from; i < to; i++) e += (x[i] as number) ** 2;
  return 10 * Math.log10(Math.max(e / Math.max(1, to - from), 1e-18));
}
