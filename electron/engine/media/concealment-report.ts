/**
 * What a remote's playout concealed since the previous report, as one line an operator (or a failing test) can place:
 * packets lost on the way, packets that landed late, or our own speaker pulling ahead of real time.
 */
import type { PlayoutStats } from '../playout/playout-buffer';

type Counted = Pick<PlayoutStats, 'concealedSamples' | 'concealedFrames' | 'packetsLost' | 'latePackets' | 'lateMerged' | 'earlyPulls'>;

const SAMPLES_PER_MS = 48;

export class ConcealmentReport {
  private readonly last = new Map<string, Counted>();

  /**
   * A line for `id` if its playout concealed anything since the previous call, else undefined.
   * @param longestArrivalGapMs the longest wait between two of its packets meanwhile (PlayoutBuffer.takeLongestArrivalGapMs)
   */
  take(id: string, stats: Counted, longestArrivalGapMs: number): string | undefined {
    const before = this.last.get(id);
    this.last.set(id, pick(stats));
    if (!before || stats.concealedFrames <= before.concealedFrames) return undefined;
    const d = (k: keyof Counted) => Math.max(0, stats[k] - before[k]);
    const parts = [
      `${d('packetsLost')} lost on the way`,
      `${d('latePackets')} landed late and dropped`,
      `${d('lateMerged')} landed late and played after it`,
      `${d('earlyPulls')} early pull(s) by our speaker`,
    ];
    const gap = longestArrivalGapMs > 0 ? `; packets came at most ${longestArrivalGapMs.toFixed(1)} ms apart` : '';
    return `${id}: concealed ${(d('concealedSamples') / SAMPLES_PER_MS).toFixed(1)} ms in ${d('concealedFrames')} frame(s): ${parts.join(', ')}${gap}`;
  }

  forget(id: string): void {
    this.last.delete(id);
  }
}

function pick(s: Counted): Counted {
  return { concealedSamples: s.concealedSamples, concealedFrames: s.concealedFrames, packetsLost: s.packetsLost, latePackets: s.latePackets, lateMerged: s.lateMerged, earlyPulls: s.earlyPulls };
}
