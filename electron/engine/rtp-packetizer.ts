import { RtpHeader, RtpPacket } from 'werift';

/**
 * Our RTP numbering. werift keeps sequence numbers and timestamps as given (it rewrites SSRC and payload type), so
 * they are ours to get right: sequence numbers count packets, timestamps count captured samples (never the wall
 * clock, which would jitter), and the marker bit opens every talk spurt.
 */
export class RtpPacketizer {
  private seq: number;
  private readonly timestampBase: number;
  private spurtOpen = false;

  constructor(random: () => number = Math.random) {
    this.seq = Math.floor(random() * 0x10000);
    this.timestampBase = Math.floor(random() * 0x100000000);
  }

  /**
   * @param capturedSamples samples captured since the stream began, at the first sample of this frame: the
   * timestamp keeps advancing across pauses, so a receiver sees the pause as a gap, not as loss.
   */
  packetize(payload: Buffer, capturedSamples: number): RtpPacket {
    const header = new RtpHeader({
      version: 2,
      payloadType: 111,
      sequenceNumber: this.seq,
      timestamp: (this.timestampBase + capturedSamples) >>> 0,
      marker: !this.spurtOpen,
      ssrc: 0,
    });
    this.seq = (this.seq + 1) & 0xffff;
    this.spurtOpen = true;
    return new RtpPacket(header, payload);
  }

  /** The next packet opens a new talk spurt. */
  endSpurt(): void {
    this.spurtOpen = false;
  }
}
