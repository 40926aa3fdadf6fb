/**
 * A debug trace of every frame a remote's playout conceals (PARTYLINE_TRACE_PLAYOUT=1): when it happened against the
 * pulls and the packet arrivals around it, so a concealment can be placed on the sender, the path or the listener.
 */
import type { Log } from '../../common/log';
import type { PlayoutBuffer } from '../playout/playout-buffer';

const KEPT = 12;

export class ConcealTrace {
  private readonly arrivals: number[] = [];
  private readonly pulls: number[] = [];
  /** Arrivals still to report after a concealment, and the pull it happened at. */
  private followUp = 0;
  private concealedAtMs = 0;
  private followed: string[] = [];

  constructor(
    private readonly id: string,
    private readonly playout: PlayoutBuffer,
    private readonly log: Log,
  ) {
    const insert = playout.insert.bind(playout);
    playout.insert = (packet, arrivalMs) => {
      this.arrived(arrivalMs, packet.seq);
      insert(packet, arrivalMs);
    };
  }

  pull(samples: number, nowMs: number): Int16Array {
    const before = this.playout.stats();
    const out = this.playout.pull(samples, nowMs);
    const after = this.playout.stats();
    this.pulls.push(nowMs);
    if (this.pulls.length > KEPT) this.pulls.shift();
    if (after.concealedFrames > before.concealedFrames) {
      const rel = (t: number) => (t - nowMs).toFixed(1);
      this.log.info(
        `${this.id}: concealed ${after.concealedFrames - before.concealedFrames} at pull of ${samples} (low latency ${before.lowLatency}->${after.lowLatency}, target ${after.targetDelayMs.toFixed(1)}, level ${before.currentDelayMs.toFixed(1)}); ` +
          `pulls ${this.pulls.map(rel).join(' ')}; arrivals ${this.arrivals.map(rel).join(' ')}`,
      );
      this.followUp = 4;
      this.concealedAtMs = nowMs;
      this.followed = [];
    }
    return out;
  }

  private arrived(arrivalMs: number, seq: number): void {
    this.arrivals.push(arrivalMs);
    if (this.arrivals.length > KEPT) this.arrivals.shift();
    if (this.followUp === 0) return;
    this.followed.push(`${seq}@${(arrivalMs - this.concealedAtMs).toFixed(1)}`);
    if (--this.followUp === 0) this.log.info(`${this.id}: next arrivals after it ${this.followed.join(' ')}`);
  }
}
