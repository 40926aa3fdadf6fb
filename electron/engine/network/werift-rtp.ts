import { RtpHeader, RtpPacket } from 'werift';
import { decodeAudioLevel, encodeAudioLevel } from '../audio-level';
import type { OutgoingRtp, ReceivedRtp } from './rtp-frames';

/**
 * Our packet as werift sends it, with its RFC 6464 level where the remote negotiated the extension (`levelId`).
 * Every remote gets its own packet: werift's sender rewrites the header it is given (SSRC, payload type, extensions).
 */
export function toWerift(rtp: OutgoingRtp, levelId: number | undefined, level: number): RtpPacket {
  const extensions = levelId === undefined ? [] : [{ id: levelId, payload: encodeAudioLevel(level, level < 50) }];
  const header = new RtpHeader({
    payloadType: rtp.payloadType,
    sequenceNumber: rtp.seq,
    timestamp: rtp.timestamp,
    marker: rtp.marker,
    ssrc: rtp.ssrc,
    extensions,
  });
  return new RtpPacket(header, Buffer.from(rtp.payload.buffer, rtp.payload.byteOffset, rtp.payload.byteLength));
}

/** A packet werift received, as the playout takes it, with its RFC 6464 level if it carried one under `levelId`. */
export function fromWerift(
  rtp: RtpPacket,
  levelId: number | undefined,
): { rtp: ReceivedRtp; level: number | undefined } {
  const h = rtp.header;
  const ext = levelId === undefined ? undefined : h.extensions.find((e) => e.id === levelId);
  return {
    rtp: { seq: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc, marker: h.marker, payload: rtp.payload },
    level: ext ? decodeAudioLevel(ext.payload) : undefined,
  };
}
