import { METER_FLOOR_DB, type Meter } from '../common/contract';

const toDb = (linear: number): number => (linear > 0 ? Math.max(METER_FLOOR_DB, 20 * Math.log10(linear)) : METER_FLOOR_DB);

/**
 * Peak and RMS since the last read, in dBFS. Samples are fed on the audio path; the publisher reads (and resets) at
 * its own rate, so a meter never misses a peak between two publications.
 */
export class LevelMeter {
  private peak = 0;
  private sumSquares = 0;
  private count = 0;

  feed(pcm: Int16Array, gain = 1): void {
    let peak = this.peak;
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) {
      const v = ((pcm[i] as number) * gain) / 32768;
      const a = v < 0 ? -v : v;
      if (a > peak) peak = a;
      sum += v * v;
    }
    this.peak = peak;
    this.sumSquares += sum;
    this.count += pcm.length;
  }

  read(): Meter {
    const meter = { peakDb: toDb(this.peak), rmsDb: this.count ? toDb(Math.sqrt(this.sumSquares / this.count)) : METER_FLOOR_DB };
    this.peak = 0;
    this.sumSquares = 0;
    this.count = 0;
    return meter;
  }
}
