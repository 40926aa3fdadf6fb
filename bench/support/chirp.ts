import { SAMPLE_RATE as RATE } from '../../native/audio-format';
/** Chirp bursts and their lag by cross-correlation: how the latency benches measure mouth-to-ear delay. */
export { RATE };

/** A Hann-windowed linear sweep: a sharp, unambiguous correlation peak that survives Opus. */
export function chirp(ms = 60, f0 = 400, f1 = 3500, levelDb = -9): Float32Array {
  const n = Math.round((RATE * ms) / 1000);
  const amp = 10 ** (levelDb / 20);
  const out = new Float32Array(n);
  const k = (f1 - f0) / (n / RATE);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    out[i] = amp * w * Math.sin(2 * Math.PI * (f0 * t + 0.5 * k * t * t));
  }
  return out;
}

/** `bursts` chirps, `spacingMs` apart, after `leadMs` of silence, as 16-bit PCM. */
export function burstTrain(bursts: number, spacingMs = 1000, leadMs = 500): { pcm: Int16Array; onsets: number[] } {
  const c = chirp();
  const spacing = (RATE * spacingMs) / 1000;
  const lead = (RATE * leadMs) / 1000;
  const pcm = new Int16Array(lead + bursts * spacing);
  const onsets: number[] = [];
  for (let b = 0; b < bursts; b++) {
    const at = lead + b * spacing;
    onsets.push(at);
    for (let i = 0; i < c.length; i++) pcm[at + i] = Math.round((c[i] as number) * 32767);
  }
  return { pcm, onsets };
}

/** Splits interleaved stereo into its two channels. */
export function deinterleave(stereo: Int16Array): [Float32Array, Float32Array] {
  const n = stereo.length >> 1;
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    l[i] = (stereo[2 * i] as number) / 32768;
    r[i] = (stereo[2 * i + 1] as number) / 32768;
  }
  return [l, r];
}

/** Burst onsets in the reference channel: where the energy first rises above a threshold, bursts apart. */
export function findBursts(ref: Float32Array, minGap = RATE / 2): number[] {
  const win = 240;
  const found: number[] = [];
  let last = -Infinity;
  for (let s = 0; s + win <= ref.length; s += win / 2) {
    let e = 0;
    for (let i = s; i < s + win; i++) e += (ref[i] as number) ** 2;
    if (e / win > 1e-4 && s - last > minGap) {
      found.push(s);
      last = s;
    }
  }
  return found;
}

/**
 * The far end's lag behind the reference for one burst, by normalised cross-correlation over [0, maxLagMs].
 * Returns null when the best match is too weak to trust (a dropout, a lost burst).
 */
export function burstLag(ref: Float32Array, far: Float32Array, onset: number, maxLagMs = 400): { lagMs: number; score: number } | null {
  const len = Math.round(RATE * 0.08);
  const start = Math.max(0, onset - 240);
  const maxLag = Math.round((RATE * maxLagMs) / 1000);
  let refEnergy = 0;
  for (let i = 0; i < len; i++) refEnergy += (ref[start + i] ?? 0) ** 2;
  let best = -1;
  let bestLag = 0;
  // coarse pass every 4 samples, then refine around the best
  const score = (lag: number) => {
    let dot = 0;
    let farEnergy = 0;
    for (let i = 0; i < len; i++) {
      const f = far[start + lag + i] ?? 0;
      dot += (ref[start + i] ?? 0) * f;
      farEnergy += f * f;
    }
    return farEnergy > 0 ? dot / Math.sqrt(refEnergy * farEnergy) : 0;
  };
  for (let lag = 0; lag <= maxLag; lag += 4) {
    const s = score(lag);
    if (s > best) {
      best = s;
      bestLag = lag;
    }
  }
  for (let lag = Math.max(0, bestLag - 4); lag <= bestLag + 4; lag++) {
    const s = score(lag);
    if (s > best) {
      best = s;
      bestLag = lag;
    }
  }
  return best >= 0.5 ? { lagMs: (bestLag * 1000) / RATE, score: best } : null;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}
