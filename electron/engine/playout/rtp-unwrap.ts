/**
 * Turns a wrapping RTP counter (uint16 sequence number, uint32 timestamp) into
 * a monotonic extended number, so ordering and differences survive the wrap.
 * A value is placed at the nearest distance (half the range either way) from
 * the previous one, which keeps reordered and late packets on the right side.
 */
export class RtpUnwrapper {
  private readonly range: number;
  private readonly half: number;
  private lastRaw: number | undefined;
  private lastExtended = 0;

  constructor(bits: 16 | 32) {
    this.range = 2 ** bits;
    this.half = this.range / 2;
  }

  unwrap(raw: number): number {
    if (this.lastRaw === undefined) {
      this.lastRaw = raw;
      // Start high enough that a few reordered predecessors never go negative.
      this.lastExtended = raw + this.range;
      return this.lastExtended;
    }
    let delta = (raw - this.lastRaw) % this.range;
    if (delta < 0) delta += this.range;
    if (delta >= this.half) delta -= this.range;
    this.lastRaw = raw;
    this.lastExtended += delta;
    return this.lastExtended;
  }

  reset(): void {
    this.lastRaw = undefined;
    this.lastExtended = 0;
  }
}
