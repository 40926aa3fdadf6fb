import type { PlaybackSource } from '../../native/bridge';
import { LevelMeter } from './meter';
import { SAMPLE_RATE } from './audio-format';

/** One remote station as the mixer sees it: its playout, and the gain the station's line keys give it now. */
export interface MixerInput {
  pull(samples: number, nowMs: number): Int16Array;
  /** See PlaybackSource.prepareAhead; an input without it never invents audio for an early pull. */
  prepareAhead?(samples: number, nowMs: number): boolean;
  gain(): number;
  readonly meter: LevelMeter;
}

/** One party line as the mixer meters it: the remotes it carries, each at the gain the line gives it. */
export interface LineBus {
  gain(input: MixerInput): number;
  readonly meter: LevelMeter;
}

/**
 * Sums every remote station into the speaker, on the device clock. Every input is pulled on every tick, even at
 * gain 0, so each playout buffer keeps its own time and un-muting plays the present, not a backlog.
 */
export class Mixer implements PlaybackSource {
  readonly inputs = new Set<MixerInput>();
  /** Lines metered on their own: what each would play (before the master volume). */
  readonly buses = new Set<LineBus>();
  readonly output = new LevelMeter();
  /** The master volume: applied to every remote after its line gain; the test tone keeps its own level. */
  masterGain = 1;
  /** What this tick pulled, for the line buses: kept in reused arrays, so metering makes no garbage per tick. */
  private readonly pulledInputs: MixerInput[] = [];
  private readonly pulledPcm: Int16Array[] = [];
  private busAcc = new Float32Array(0);
  private busOut = new Int16Array(0);
  private toneHz = 0;
  private toneAmp = 0;
  private tonePhase = 0;
  private acc = new Float32Array(0);
  /** Samples of the call tone still to play (counting down through its beeps and the gap between them), and its phase. */
  private ringLeft = 0;
  private ringPhase = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  setTestTone(on: boolean, frequencyHz = 1000, levelDb = -18): void {
    this.toneHz = on ? frequencyHz : 0;
    this.toneAmp = on ? 32767 * 10 ** (levelDb / 20) : 0;
  }

  /** The call signal: two short beeps at CALL_TONE_HZ, over whatever plays, at a fixed level the master volume leaves. */
  ringCallTone(): void {
    this.ringLeft = CALL_TONE_SAMPLES;
  }

  /** Every input is asked, so that each one that cannot yet starts building the audio. */
  prepareAhead(samples: number): boolean {
    const now = this.now();
    let ready = true;
    for (const input of this.inputs)
      if (input.prepareAhead !== undefined && !input.prepareAhead(samples, now)) ready = false;
    return ready;
  }

  pull(samples: number): Int16Array {
    if (this.acc.length !== samples) this.acc = new Float32Array(samples);
    const acc = this.acc;
    acc.fill(0);
    const now = this.now();
    for (const input of this.inputs) {
      const pcm = input.pull(samples, now);
      input.meter.feed(pcm);
      if (this.buses.size > 0) {
        this.pulledInputs.push(input);
        this.pulledPcm.push(pcm);
      }
      const g = input.gain() * this.masterGain;
      if (g > 0) for (let i = 0; i < samples; i++) acc[i] = (acc[i] as number) + (pcm[i] as number) * g;
    }
    if (this.buses.size > 0) this.meterBuses(samples);
    if (this.toneHz > 0) {
      const step = (2 * Math.PI * this.toneHz) / SAMPLE_RATE;
      for (let i = 0; i < samples; i++) {
        acc[i] = (acc[i] as number) + this.toneAmp * Math.sin(this.tonePhase);
        this.tonePhase += step;
      }
      this.tonePhase %= 2 * Math.PI;
    }
    if (this.ringLeft > 0) this.addCallTone(acc, samples);
    const out = new Int16Array(samples);
    for (let i = 0; i < samples; i++) out[i] = limit(acc[i] as number);
    this.output.feed(out);
    return out;
  }

  private addCallTone(acc: Float32Array, samples: number): void {
    const step = (2 * Math.PI * CALL_TONE_HZ) / SAMPLE_RATE;
    for (let i = 0; i < samples && this.ringLeft > 0; i++, this.ringLeft--) {
      // Played from the end: beep, gap, beep. Each beep ramps in and out over 5 ms so it does not click.
      const t = CALL_TONE_SAMPLES - this.ringLeft;
      const inBeep = t < CALL_BEEP_SAMPLES ? t : t - CALL_BEEP_SAMPLES - CALL_GAP_SAMPLES;
      if (inBeep >= 0 && inBeep < CALL_BEEP_SAMPLES) {
        const ramp = Math.min(1, inBeep / RAMP_SAMPLES, (CALL_BEEP_SAMPLES - inBeep) / RAMP_SAMPLES);
        acc[i] = (acc[i] as number) + CALL_TONE_AMP * ramp * Math.sin(this.ringPhase);
      }
      this.ringPhase = (this.ringPhase + step) % (2 * Math.PI);
    }
  }

  private meterBuses(samples: number): void {
    if (this.busAcc.length !== samples) {
      this.busAcc = new Float32Array(samples);
      this.busOut = new Int16Array(samples);
    }
    const acc = this.busAcc;
    const pcmOut = this.busOut;
    for (const bus of this.buses) {
      acc.fill(0);
      let any = false;
      for (let k = 0; k < this.pulledInputs.length; k++) {
        const pcm = this.pulledPcm[k] as Int16Array;
        const g = bus.gain(this.pulledInputs[k] as MixerInput);
        if (g <= 0) continue;
        any = true;
        for (let i = 0; i < samples; i++) acc[i] = (acc[i] as number) + (pcm[i] as number) * g;
      }
      if (any) for (let i = 0; i < samples; i++) pcmOut[i] = limit(acc[i] as number);
      else pcmOut.fill(0);
      bus.meter.feed(pcmOut);
    }
    this.pulledInputs.length = 0;
    this.pulledPcm.length = 0;
  }
}

/** The call tone: two 150 ms beeps 100 ms apart at 1400 Hz, -18 dBFS: above most voice energy, short enough not to mask talk. */
export const CALL_TONE_HZ = 1400;
const CALL_BEEP_SAMPLES = (SAMPLE_RATE * 150) / 1000;
const CALL_GAP_SAMPLES = (SAMPLE_RATE * 100) / 1000;
const CALL_TONE_SAMPLES = 2 * CALL_BEEP_SAMPLES + CALL_GAP_SAMPLES;
const RAMP_SAMPLES = (SAMPLE_RATE * 5) / 1000;
const CALL_TONE_AMP = 32767 * 10 ** (-18 / 20);

/** Several talkers can exceed full scale: soft-knee above -6 dBFS instead of wrapping or hard clipping. */
function limit(x: number): number {
  const knee = 16384;
  const a = x < 0 ? -x : x;
  if (a <= knee) return x;
  const over = (a - knee) / (32767 - knee);
  const y = knee + (32767 - knee) * Math.tanh(over);
  return x < 0 ? -y : y;
}
