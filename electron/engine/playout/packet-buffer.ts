/**
 * The packets that arrived but are not decoded yet, ordered by extended RTP
 * timestamp. It knows nothing about decoding or timing policy; it only answers
 * what is next and how much audio is waiting.
 */
export interface BufferedPacket {
  /** Extended (unwrapped) sequence number. */
  readonly seq: number;
  /** Extended (unwrapped) timestamp in samples. */
  readonly ts: number;
  readonly marker: boolean;
  readonly payload: Uint8Array;
  readonly arrivalMs: number;
}

export class PacketBuffer {
  private readonly packets: BufferedPacket[] = [];

  /** @param capacity packets kept at most; the oldest are dropped beyond it. */
  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.packets.length;
  }

  head(): BufferedPacket | undefined {
    return this.packets[0];
  }

  newestArrivalMs(): number {
    let newest = -Infinity;
    for (const p of this.packets) if (p.arrivalMs > newest) newest = p.arrivalMs;
    return newest;
  }

  /**
   * Inserts in timestamp order. Returns how many old packets had to be dropped
   * to stay within capacity, or -1 if a packet with this timestamp is already held.
   */
  insert(packet: BufferedPacket): number {
    const list = this.packets;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.ts < packet.ts) lo = mid + 1;
      else hi = mid;
    }
    if (lo < list.length && list[lo]!.ts === packet.ts) return -1;
    list.splice(lo, 0, packet);
    let dropped = 0;
    while (list.length > this.capacity) {
      list.shift();
      dropped++;
    }
    return dropped;
  }

  popHead(): BufferedPacket | undefined {
    return this.packets.shift();
  }

  /** Removes packets that start before `ts` (overtaken by playout); returns how many. */
  dropBefore(ts: number): number {
    let n = 0;
    while (this.packets.length > 0 && this.packets[0]!.ts < ts) {
      this.packets.shift();
      n++;
    }
    return n;
  }

  /**
   * Samples of audio the buffered packets will produce when played from
   * (`fromTs`, `fromSeq`) on: a hole left by lost packets counts (it will be
   * concealed), a pause where the sender sent nothing (consecutive sequence
   * numbers, jumping timestamp) does not. With `fromSeq` undefined the count
   * starts at the head packet.
   */
  samplesAhead(fromTs: number, fromSeq: number | undefined, frameSamples: number): number {
    let total = 0;
    let ts = fromTs;
    let seq = fromSeq;
    for (const p of this.packets) {
      if (seq !== undefined) total += Math.max(0, Math.min(p.ts - ts, (p.seq - seq) * frameSamples));
      ts = p.ts;
      seq = p.seq;
    }
    return this.packets.length > 0 ? total + frameSamples : 0;
  }

  clear(): void {
    this.packets.length = 0;
  }
}
