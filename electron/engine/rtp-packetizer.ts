import type { OutgoingRtp } from './network/rtp-frames';

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
  packetize(payload: Uint8Array, capturedSamples: number): OutgoingRtp {
    const rtp: OutgoingRtp = {
      payloadType: 111,
      seq: this.seq,
      timestamp: (this.timestampBase + capturedSamples) >>> 0,
      marker: !this.spurtOpen,
      ssrc: 0,
      payload,
    };
    this.seq = (this.seq + 1) & 0xffff;
    this.spurtOpen = true;
    return rtp;
  }

  /** The next packet opens a new talk spurt. */
  endSpurt(): void {
    this.spurtOpen = false;
  }
}
