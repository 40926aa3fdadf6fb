import type { Meter, PeerHealth } from '../../common/contract';
import type { Presence } from '../../common/signalling-protocol';
import type { PeerMediaHealth } from '../media/media-protocol';

/** The station a Janus feed id (`janus:<line>:<stationId>`, see janus/feed-ids.ts) is heard from; undefined for a mesh peer. */
export function janusFeedStation(id: string): string | undefined {
  if (!id.startsWith('janus:')) return undefined;
  return id.slice(id.lastIndexOf(':') + 1);
}

/**
 * The media side's per-peer health as the panel shows it: each remote by its station id and name, a member heard
 * through Janus as itself, as a mesh peer is. `whois` names a station (the latest presence first); a feed nobody
 * names is left out.
 */
export function peerHealth(peers: PeerMediaHealth[], whois: (stationId: string, viaJanus: boolean) => Presence | undefined): PeerHealth[] {
  return peers.flatMap((h) => {
    const feed = janusFeedStation(h.id);
    const presence = whois(feed ?? h.id, feed !== undefined);
    if (!presence) return [];
    return [
      {
        stationId: presence.stationId,
        name: presence.name,
        connection: h.connection,
        rttMs: h.rttMs,
        jitterMs: h.jitterMs,
        lossRate: h.lossRate,
        playoutDelayMs: h.playoutDelayMs,
        targetDelayMs: h.targetDelayMs,
        lowLatency: h.lowLatency,
        concealedFrames: h.concealedFrames,
        stretchedFrames: h.stretchedFrames,
        fecRecoveredFrames: h.fecRecoveredFrames,
        remoteLossRate: h.remoteLossRate,
        ...(h.speaking !== undefined ? { speaking: h.speaking } : {}),
        ...(h.levelDbov !== undefined ? { levelDbov: h.levelDbov } : {}),
      },
    ];
  });
}

/** Per-remote meters keyed by station id, a Janus feed under its station (the louder where a station is heard twice). */
export function metersByStation(peers: Record<string, Meter>): Record<string, Meter> {
  const out: Record<string, Meter> = {};
  for (const [id, m] of Object.entries(peers)) {
    const station = janusFeedStation(id) ?? id;
    const seen = out[station];
    if (!seen || m.peakDb > seen.peakDb) out[station] = m;
  }
  return out;
}
