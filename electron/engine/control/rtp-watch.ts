import type { PeerMediaHealth } from '../media/media-protocol';

export interface RtpWatchOptions {
  /** Remote says it talks to us but no RTP arrives for this long: the track is reported `no-rtp`. */
  noRtpMs: number;
  /** A browser guest streams continuously; this long without RTP means its tab is gone. */
  browserGoneMs: number;
}

/**
 * werift never reports `disconnected`: RTP inactivity is our evidence. A browser guest streams from the moment it
 * connects (its talk key only mutes the track); a station streams while it talks to us, so it is expected to only
 * once it has talked, and the call has been up, for a while.
 */
export function watchRtp(
  h: PeerMediaHealth,
  remote: { kind: 'station' | 'browser'; talkingForMs: number | null },
  o: RtpWatchOptions,
): 'gone' | 'no-rtp' | 'flowing' | undefined {
  if (h.connection !== 'connected' && h.connection !== 'no-rtp') return undefined;
  const rtpAgo = h.rtpAgoMs ?? Infinity;
  if (remote.kind === 'browser' && h.rtpAgoMs !== null && h.rtpAgoMs > o.browserGoneMs) return 'gone';
  // A station talking since before the call came up is expected to send only once the call has been up a while too.
  const connectedFor = h.connectedForMs ?? 0;
  const expecting = remote.kind === 'browser' ? connectedFor > o.noRtpMs : remote.talkingForMs !== null && Math.min(remote.talkingForMs, connectedFor) > o.noRtpMs;
  if (expecting && rtpAgo > o.noRtpMs) return h.connection === 'connected' ? 'no-rtp' : undefined;
  if (h.connection === 'no-rtp' && rtpAgo < o.noRtpMs) return 'flowing';
  return undefined;
}
