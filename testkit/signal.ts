import { SAMPLE_RATE as RATE } from '../native/audio-format';
/** Test signals and their measurement: what a technician would check with a scope and an analyser. */
export { RATE };

export function tone(freq: number, seconds: number, levelDb: number, rate = RATE): Int16Array {
  const n = Math.round(seconds * rate);
  const amp = 32767 * 10 ** (levelDb / 20);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

export function rmsDb(x: Int16Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (x[i] as number) ** 2;
  const rms = Math.sqrt(sum / Math.max(1, to - from)) / 32768;
  return 20 * Math.log10(Math.max(rms, 1e-9));
}

/**
 * The level of a tone present in [from, to) in dB (0 = full-scale sine), as the mean power of 100 ms blocks. Unlike
 * toneDb over the whole span, a phase jump between blocks (a time-stretch or a concealment of the playout) does not
 * cancel the tone out: this says whether the tone is there and how loud, not whether it stayed phase-continuous.
 */
export function tonePresenceDb(x: Int16Array, freq: number, from = 0, to = x.length, rate = RATE): number {
  const block = rate / 10;
  let power = 0;
  let blocks = 0;
  for (let s = from; s + block <= to; s += block) {
    power += 10 ** (toneDb(x, freq, s, s + block, rate) / 10);
    blocks++;
  }
  return blocks === 0 ? -180 : 10 * Math.log10(Math.max(power / blocks, 1e-18));
}

/** Power of one frequency (Goertzel), normalised so a full-scale sine reads 0 dB. */
export function toneDb(x: Int16Array, freq: number, from = 0, to = x.length, rate = RATE): number {
  const n = to - from;
  const k = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i - from)) / (n - 1)); // Hann
    const s0 = ((x[i] as number) / 32768) * w + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const amp = (2 * Math.sqrt(Math.max(power, 0))) / (n * 0.5);
  return 20 * Math.log10(Math.max(amp, 1e-9));
}

/** The dominant frequency between lo and hi Hz, refined to 0.1 Hz: coarse Goertzel scan, then a fine one. */
export function dominantFrequency(x: Int16Array, lo: number, hi: number, from = 0, to = x.length): number {
  let best = lo;
  let bestDb = -Infinity;
  for (let f = lo; f <= hi; f += 5) {
    const db = toneDb(x, f, from, to);
    if (db > bestDb) {
      bestDb = db;
      best = f;
    }
  }
  for (let f = best - 5; f <= best + 5; f += 0.1) {
    const db = toneDb(x, f, from, to);
    if (db > bestDb) {
      bestDb = db;
      best = f;
    }
  }
  return Math.round(best * 10) / 10;
}

/** Index of the first sample after which the signal stays above `db` RMS for `holdMs`. */
export function onset(x: Int16Array, db: number, holdMs = 50): number {
  const frame = RATE / 100;
  const need = Math.ceil(holdMs / 10);
  let run = 0;
  for (let f = 0; (f + 1) * frame <= x.length; f++) {
    run = rmsDb(x, f * frame, (f + 1) * frame) > db ? run + 1 : 0;
    if (run >= need) return (f - need + 1) * frame;
  }
  return -1;
}

/** 10 ms frames in [from, to) whose RMS falls below `db`: dropouts. */
export function silentFrames(x: Int16Array, db: number, from: number, to: number): number[] {
  const frame = RATE / 100;
  const out: number[] = [];
  for (let s = from; s + frame <= to; s += frame) if (rmsDb(x, s, s + frame) < db) out.push(s);
  return out;
}

/**
 * Voiced "syllables": a gliding 8-harmonic buzz, 200 ms on and 200 ms off. The pauses keep Opus's voice activity
 * detector seeing speech (a steady tone stops counting as speech, and then the encoder spends no bits on FEC).
 */
export function syllables(samples: number, rate = RATE): Int16Array {
  const out = new Int16Array(samples);
  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * (140 + 40 * Math.sin(2 * Math.PI * 3 * t))) / rate;
    const envelope = Math.max(0, Math.sin(2 * Math.PI * 2.5 * t));
    let buzz = 0;
    for (let h = 1; h <= 8; h++) buzz += Math.sin(h * phase) / h;
    out[i] = Math.round(6000 * envelope * buzz);
  }
  return out;
}
