/**
 * One remote station (or guest) as the guest sees it: one RTCPeerConnection carrying our microphone out and its
 * voice in. Either side may offer; on glare the lower station id keeps its offer, as stations do.
 */
import type { ClientMessage, IceCandidate } from '../../electron/common/signalling-protocol';

export interface RemoteOptions {
  selfId: string;
  remoteId: string;
  micTrack: MediaStreamTrack;
  iceServers: RTCIceServer[];
  send: (msg: ClientMessage) => void;
  /** Where its voice plays. */
  audio: HTMLAudioElement;
}

export class Remote {
  readonly pc: RTCPeerConnection;
  private readonly pending: IceCandidate[] = [];

  constructor(private readonly options: RemoteOptions) {
    const { remoteId: to, send } = options;
    this.pc = new RTCPeerConnection({ iceServers: options.iceServers, bundlePolicy: 'max-bundle' });
    this.pc.onicecandidate = (e) => send({ type: 'candidate', to, candidate: e.candidate ? { ...e.candidate.toJSON(), candidate: e.candidate.candidate } : null });
    this.pc.ontrack = (e) => {
      // Playing the stream is what makes Chrome pull (and decode) the track: a track never attached is never read.
      options.audio.srcObject = e.streams[0] ?? new MediaStream([e.track]);
      void options.audio.play().catch(() => undefined);
    };
  }

  async offer(): Promise<void> {
    if (!this.pc.getTransceivers().some((t) => t.receiver.track.kind === 'audio')) this.pc.addTransceiver(this.options.micTrack, { direction: 'sendrecv' });
    await this.pc.setLocalDescription();
    this.options.send({ type: 'offer', to: this.options.remoteId, sdp: this.pc.localDescription?.sdp ?? '' });
  }

  async acceptOffer(sdp: string): Promise<void> {
    if (this.pc.signalingState === 'have-local-offer' && this.options.selfId < this.options.remoteId) return;
    // Implicit rollback of our own offer when we yield.
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.sendMicrophoneOnOfferedTransceiver();
    await this.flushCandidates();
    await this.pc.setLocalDescription();
    this.options.send({ type: 'answer', to: this.options.remoteId, sdp: this.pc.localDescription?.sdp ?? '' });
  }

  /**
   * A remote offer gets a transceiver of its own (recvonly, no track): JSEP never pairs an offered m-line with one
   * made by addTransceiver. Without this the answer says recvonly and the microphone sends nothing (`no-rtp`).
   * A transceiver left over from an offer we rolled back on glare is stopped, so it never becomes a second m-line.
   */
  private async sendMicrophoneOnOfferedTransceiver(): Promise<void> {
    for (const t of this.pc.getTransceivers()) {
      if (t.receiver.track.kind !== 'audio') continue;
      if (t.mid === null) {
        t.stop();
        continue;
      }
      t.direction = 'sendrecv';
      if (t.sender.track !== this.options.micTrack) await t.sender.replaceTrack(this.options.micTrack);
    }
  }

  async acceptAnswer(sdp: string): Promise<void> {
    if (this.pc.signalingState !== 'have-local-offer') return;
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await this.flushCandidates();
  }

  async addCandidate(candidate: IceCandidate | null | undefined): Promise<void> {
    if (!candidate) return;
    if (!this.pc.remoteDescription) {
      this.pending.push(candidate);
      return;
    }
    await this.pc.addIceCandidate(candidate).catch((e: Error) => console.warn(`candidate from ${this.options.remoteId}: ${e.message}`));
  }

  private async flushCandidates(): Promise<void> {
    for (const c of this.pending.splice(0)) await this.addCandidate(c);
  }

  /** The level the remote reports in its RTP (RFC 6464), 0..1, or undefined before any. */
  receivedLevel(): number | undefined {
    const receiver = this.pc.getReceivers().find((r) => r.track.kind === 'audio');
    return receiver?.getSynchronizationSources()[0]?.audioLevel;
  }

  close(): void {
    this.pc.close();
    this.options.audio.srcObject = null;
    this.options.audio.remove();
  }
}
