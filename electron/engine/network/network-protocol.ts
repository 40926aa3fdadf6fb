/**
 * The boundary between a station's audio thread (devices, encoder, playout, mixer) and its network thread (werift
 * peers, Janus lines, mDNS). Each peer or Janus line is a numbered handle; everything that crosses is a plain
 * structured-clonable value, and received payloads travel in buffers of their own, transferred rather than copied.
 */
import type { IceServer } from '../../common/contract';
import type { LogRecord } from '../../common/log';
import type { JanusLineAccess } from '../../common/signalling-protocol';
import type { CandidateInit, OutgoingRtp, ReceivedRtp, TransportState } from './rtp-frames';

export interface PeerSpec {
  stationId: string;
  iceServers: IceServer[];
  frameMs: number;
  loopbackCandidates: boolean;
}

export interface JanusLineSpec {
  line: string;
  stationId: string;
  access: JanusLineAccess;
  frameMs: number;
  loopbackCandidates: boolean;
}

export interface PeerTransportEvents {
  /** SDP or a trickled candidate to hand to signalling. */
  description: [kind: 'offer' | 'answer', sdp: string];
  candidate: [candidate: CandidateInit | null];
  connection: [state: TransportState];
  /** One received packet, with its RFC 6464 level when the remote negotiated the extension. */
  rtp: [rtp: ReceivedRtp, level: number | undefined];
  /** The remote's RTCP receiver report on what we send: loss over its last report interval, 0..1, and the RTT. */
  receiverReport: [fractionLost: number, rttMs: number | null];
  /** A remote candidate's mDNS name, and the address it goes to ICE with. */
  mdnsResolved: [host: string, address: string];
  /** A remote candidate's mDNS name that could not be resolved: that candidate is lost to ICE, and this says why. */
  mdnsUnresolved: [host: string, reason: string];
}

export type JanusLineState = 'connecting' | 'connected' | 'failed' | 'closed';

export interface JanusLineEvents {
  state: [state: JanusLineState, detail: string];
  /** A member's feed appeared in (or left) our subscription. */
  feed: [stationId: string, present: boolean];
  /** One RTP packet of a member's feed, with its RFC 6464 level if it carried one. */
  rtp: [stationId: string, rtp: ReceivedRtp, level: number | undefined];
}

export type PeerCall =
  | { method: 'offer' }
  | { method: 'acceptOffer' | 'acceptAnswer'; sdp: string }
  | { method: 'addCandidate'; candidate: CandidateInit | null }
  | { method: 'close' };
export type JanusCall = { method: 'start' } | { method: 'close' };

export type ToNetwork =
  | { t: 'peer'; h: number; spec: PeerSpec }
  | { t: 'janus'; h: number; spec: JanusLineSpec }
  | { t: 'call'; h: number; call: number; what: PeerCall | JanusCall }
  /** One packet of ours to every handle listed (a transport that is not connected drops it). */
  | { t: 'send'; hs: number[]; rtp: OutgoingRtp; level: number }
  | { t: 'close'; call: number };

type EventMessage<E> = { [K in keyof E]: { t: 'event'; h: number; name: K; args: E[K] } }[keyof E];

export type FromNetwork =
  | EventMessage<Omit<PeerTransportEvents, 'rtp'>>
  | EventMessage<Omit<JanusLineEvents, 'rtp'>>
  | { t: 'rtp'; h: number; station: string | undefined; rtp: ReceivedRtp; level: number | undefined }
  | { t: 'reply'; call: number; error?: { name: string; message: string } }
  | { t: 'log'; record: LogRecord }
  /** The thread's kernel id, once at start (0 where there is none): the audio thread asks for its scheduling. */
  | { t: 'thread'; tid: number };
