/**
 * Decoded samples waiting to be played. Packets come in 5, 10 or 20 ms frames
 * while the device pulls its own period, so decoded audio lands here and pulls
 * take exactly what they need. The unplayed region is exposed for in-place
 * time-stretching, and the newest `keep` samples already played stay readable
 * for a repetition to start from.
 */
export class SyncBuffer {
  private data: Int16Array;
  private readPos = 0;
  private writePos = 0;
  /** The oldest sample still held. */
  private heldPos = 0;

  constructor(
    initialCapacity: number,
    private readonly keep = 0,
  ) {
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

  /** How many of the newest samples, played or not, are held (at most `n`): they are [end - result, end). */
  recent(n: number): number {
    return Math.min(n, this.writePos - this.heldPos);
  }

  /** Makes room for `n` more samples after end (compacting, rarely growing). */
  reserve(n: number): void {
    if (this.writePos + n <= this.data.length) return;
    const from = Math.max(this.heldPos, this.readPos - this.keep);
    const held = this.writePos - from;
    if (held + n > this.data.length) {
      const grown = new Int16Array(Math.max(this.data.length * 2, held + n));
      grown.set(this.data.subarray(from, this.writePos));
      this.data = grown;
    } else {
      this.data.copyWithin(0, from, this.writePos);
    }
    this.readPos -= from;
    this.writePos -= from;
    this.heldPos = 0;
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
  }

  clear(): void {
    this.readPos = this.writePos = this.heldPos = 0;
  }
}
