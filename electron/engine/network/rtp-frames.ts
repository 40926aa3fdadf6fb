/**
 * What crosses between the audio thread and the network thread about RTP: plain, structured-clonable values, so that
 * the audio thread never holds a werift object.
 */

export interface CandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** A peer connection's state as werift reports it (the audio side adds `no-rtp`). */
export type TransportState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

/** One received packet, as the playout buffer takes it. */
export interface ReceivedRtp {
  seq: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Uint8Array;
}

/** One packet of ours, before the transport adds its SSRC, payload type and header extensions. */
export interface OutgoingRtp {
  payloadType: number;
  seq: number;
  timestamp: number;
  marker: boolean;
  ssrc: number;
  payload: Uint8Array;
}
