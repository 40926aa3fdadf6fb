/**
 * Decoded samples waiting to be played. Packets come in 5, 10 or 20 ms frames
 * while the device pulls its own period, so decoded audio lands here and pulls
 * take exactly what they need. The unplayed region is exposed for in-place
 * time-stretching.
 */
export class SyncBuffer {
  private data: Int16Array;
  private readPos = 0;
  private writePos = 0;

  constructor(initialCapacity: number) {
    this.data = new Int16Array(initialCapacity);
  }

  get available(): number {
    return this.writePos - this.readPos;
  }

  /** Backing array: unplayed samples are [start, end). Valid until the next reserve(). */
  get samples(): Int16Array {
    return this.data;
  }

  get start(): number {
    return this.readPos;
  }

  get end(): number {
    return this.writePos;
  }

  /** Makes room for `n` more samples after end (compacting, rarely growing). */
  reserve(n: number): void {
    if (this.writePos + n <= this.data.length) return;
    const unplayed = this.available;
    if (unplayed + n > this.data.length) {
      const grown = new Int16Array(Math.max(this.data.length * 2, unplayed + n));
      grown.set(this.data.subarray(this.readPos, this.writePos));
      this.data = grown;
    } else {
      this.data.copyWithin(0, this.readPos, this.writePos);
    }
    this.readPos = 0;
    this.writePos = unplayed;
  }

  append(src: Int16Array): void {
    this.reserve(src.length);
    this.data.set(src, this.writePos);
    this.writePos += src.length;
  }

  appendSilence(n: number): void {
    this.reserve(n);
    this.data.fill(0, this.writePos, this.writePos + n);
    this.writePos += n;
  }

  /** Sets the end after in-place processing changed the unplayed length. */
  setEnd(end: number): void {
    this.writePos = end;
  }

  read(out: Int16Array, offset: number, n: number): void {
    const data = this.data;
    for (let i = 0; i < n; i++) out[offset + i] = data[this.readPos + i]!;
    this.readPos += n;
    if (this.readPos === this.writePos) this.readPos = this.writePos = 0;
  }

  clear(): void {
    this.readPos = this.writePos = 0;
  }
}
