/**
 * An objective quality figure for a voice path: a speech-like reference goes in, the far end is recorded, and the
 * segmental SNR of the recording against the reference is measured after aligning them by cross-correlation, block
 * by block, so that a playout buffer stretching time (and so moving the delay) is followed rather than punished as
 * noise. The same computation serves every system compared.
 */
import { seededRandom } from '../../testkit/seeded-random';
import { SAMPLE_RATE as RATE } from '../../native/audio-format';

export { RATE };

/**
 * Voiced speech in caricature: a harmonic series on a wandering pitch (110..220 Hz), a syllable-rate envelope and a
 * little breath noise. The pitch never repeats exactly, so the correlation peak is unambiguous.
 */
export function speechLike(seconds: number, seed = 7, levelDb = -12): Int16Array {
  const random = seededRandom(seed);
  const n = Math.round(seconds * RATE);
  const out = new Int16Array(n);
  const amp = 10 ** (levelDb / 20) * 32767;
  let phase = 0;
  let f0 = 150;
  let f0Target = 150;
  let syllablePhase = 0;
  let syllableRate = 4;
  const harmonics = 24;
  for (let i = 0; i < n; i++) {
    if (i % 2400 === 0) f0Target = 110 + 110 * random();
    f0 += (f0Target - f0) * 0.0005;
    phase += (2 * Math.PI * f0) / RATE;
    if (phase > 2 * Math.PI * 1000) phase -= 2 * Math.PI * 1000;
    syllablePhase += (2 * Math.PI * syllableRate) / RATE;
    if (syllablePhase > 2 * Math.PI) {
      syllablePhase -= 2 * Math.PI;
      syllableRate = 3 + 3 * random();
    }
    let v = 0;
    for (let h = 1; h <= harmonics && h * f0 < 4000; h++) v += Math.sin(h * phase) / h;
    const envelope = 0.25 + 0.75 * (0.5 - 0.5 * Math.cos(syllablePhase));
    v = v * 0.45 * envelope + (random() - 0.5) * 0.05 * envelope;
    out[i] = Math.round(Math.max(-1, Math.min(1, v)) * amp);
  }
  return out;
}

/** Normalised correlation of ref[r0..r0+len) with rec[c0..c0+len), sampling every `step`th sample. */
function correlation(ref: Int16Array, r0: number, rec: Int16Array, c0: number, len: number, step: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < len; i += step) {
    const x = ref[r0 + i] as number;
    const y = rec[c0 + i] as number;
    xy += x * y;
    xx += x * x;
    yy += y * y;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
}

/** The lag (rec index − ref index) in [lo, hi] that best aligns ref[r0..r0+len): coarse every 4th lag, then exact. */
function bestLag(ref: Int16Array, r0: number, rec: Int16Array, len: number, lo: number, hi: number): { lag: number; corr: number } {
  let best = { lag: lo, corr: -Infinity };
  const consider = (lag: number, step: number) => {
    if (r0 + lag < 0 || r0 + lag + len > rec.length) return;
    const c = correlation(ref, r0, rec, r0 + lag, len, step);
    if (c > best.corr) best = { lag, corr: c };
  };
  for (let lag = lo; lag <= hi; lag += 4) consider(lag, 4);
  const coarse = best.lag;
  for (let lag = coarse - 4; lag <= coarse + 4; lag++) consider(lag, 1);
  return best;
}

export interface QualityResult {
  /** Mean segmental SNR over active 20 ms segments, each clamped to −10..35 dB. */
  segSnrDb: number;
  /** The initial alignment (end-to-end delay of the recording against the reference). */
  delayMs: number;
  segments: number;
}

const BLOCK = 4800; // 100 ms: realigned per block
const SEGMENT = 960; // 20 ms
const FOLLOW = 960; // a block may move ±20 ms from the last (time-stretch, a late start after loss)
const REACQUIRE = 0.5;
const REACQUIRE_RANGE = RATE; // ±1 s

/**
 * Segmental SNR of `recording` against `reference[from..to)`, the recording having started before the reference was
 * injected. The recording is first searched for the judged part's start, then each block is aligned near the previous
 * one. Blocks the recording ended before are left out (`segments` says how many were judged).
 */
export function segmentalSnr(reference: Int16Array, recording: Int16Array, from: number, to: number, maxDelayMs = 3000): QualityResult {
  // The recording starts before the reference is injected: the reference can only appear later in it.
  const first = bestLag(reference, from, recording, BLOCK * 4, 0, Math.round((maxDelayMs / 1000) * RATE));
  // Align every block near the previous one; a block whose audio is gone keeps the last lag (and scores its loss).
  const lags: number[] = [];
  let lag = first.lag;
  for (let b = from; b + BLOCK <= to; b += BLOCK) {
    let found = bestLag(reference, b, recording, BLOCK, lag - FOLLOW, lag + FOLLOW);
    // Lost track: the delay jumped (a stall, a catch-up that dropped a backlog). Search wide, so one jump costs the
    // blocks it spoils and not everything after it.
    if (found.corr < REACQUIRE) {
      const wide = bestLag(reference, b, recording, BLOCK, lag - REACQUIRE_RANGE, lag + REACQUIRE_RANGE);
      if (wide.corr > found.corr) found = wide;
    }
    if (found.corr > 0.3) lag = found.lag;
    if (b + lag < 0 || b + lag + BLOCK > recording.length) break;
    lags.push(lag);
  }
  // One least-squares gain for the whole recording absorbs a level difference between systems, never a dropout.
  let xy = 0;
  let xx = 0;
  lags.forEach((l, k) => {
    const b = from + k * BLOCK;
    for (let i = 0; i < BLOCK; i++) {
      const x = reference[b + i] as number;
      xy += x * (recording[b + l + i] as number);
      xx += x * x;
    }
  });
  const gain = xx > 0 ? xy / xx : 1;
  const snrs: number[] = [];
  lags.forEach((l, k) => {
    const b = from + k * BLOCK;
    for (let s = 0; s < BLOCK; s += SEGMENT) {
      let signal = 0;
      let noise = 0;
      for (let i = s; i < s + SEGMENT; i++) {
        const x = (reference[b + i] as number) * gain;
        const e = (recording[b + l + i] as number) - x;
        signal += x * x;
        noise += e * e;
      }
      // Segments far below the signal's level carry no judgement (the envelope's troughs).
      if (signal / SEGMENT < 100 * 100) continue;
      snrs.push(Math.max(-10, Math.min(35, 10 * Math.log10(signal / Math.max(noise, 1e-9)))));
    }
  });
  const segSnrDb = snrs.length ? snrs.reduce((a, v) => a + v, 0) / snrs.length : -10;
  return { segSnrDb, delayMs: (first.lag / RATE) * 1000, segments: snrs.length };
}
