import { EventEmitter } from 'node:events';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpRrPacket,
  type RtpPacket,
  useAudioLevelIndication,
  type RTCRtpSender,
  type RTCIceCandidate,
} from 'werift';
import type { IceServer } from '../../common/contract';
import { withAudioPreferences, extensionId } from '../sdp-audio';
import { AUDIO_LEVEL_URI } from '../audio-level';
import { mdnsHost, splitMdnsCandidates, withAddress } from '../mdns-candidates';
import { MdnsResolutionError } from '../mdns-resolver';
import { installSrtpIndexEstimation } from '../srtp/werift-rollover';
import type { CandidateInit, OutgoingRtp, TransportState } from './rtp-frames';
import type { PeerTransportEvents } from './network-protocol';
import { fromWerift, toWerift } from './werift-rtp';

installSrtpIndexEstimation();

export type { CandidateInit };

export interface PeerTransportOptions {
  stationId: string;
  iceServers: IceServer[];
  frameMs: number;
  /** werift leaves loopback out of its host candidates; two stations on one machine need it. */
  loopbackCandidates: boolean;
  /** Resolves a browser's `<uuid>.local` candidate name to an address; without it such candidates are reported unresolved. */
  resolveMdns?: (host: string) => Promise<string>;
}

/**
 * The network half of one remote station: one werift peer connection (ICE, DTLS, SRTP), one audio track each way.
 * It runs on the network thread; the remote's playout, meter and speaking state are the audio thread's
 * (RemotePeer). The received track is always consumed: every packet goes out as an `rtp` event, so a negotiated
 * track can never sit unread.
 */
export class PeerTransport extends EventEmitter<PeerTransportEvents> {
  readonly sendTrack = new MediaStreamTrack({ kind: 'audio' });
  connection: TransportState = 'new';
  private readonly pc: RTCPeerConnection;
  private readonly pendingCandidates: CandidateInit[] = [];
  /** Candidates on their way to werift (an mDNS name being resolved): an end-of-candidates marker waits for them. */
  private readonly arriving = new Set<Promise<void>>();
  private remoteDescriptionSet = false;
  /**
   * Our own candidates wait here until the description they belong to has been emitted. werift gathers (and emits)
   * them inside setLocalDescription, before we hold the SDP; a browser that adds a candidate before the remote
   * description fails with InvalidStateError ("The remote description was null").
   */
  private readonly heldCandidates: (CandidateInit | null)[] = [];
  /** Description exchanges under way (createOffer/createAnswer to the emitted SDP). */
  private describing = 0;
  private described = false;
  private closed = false;
  private senderAttached = false;
  /** The negotiated RFC 6464 extension id, once a description exchange settled it. */
  private audioLevelId: number | undefined;

  constructor(private readonly options: PeerTransportOptions) {
    super();
    this.pc = new RTCPeerConnection({
      iceServers: options.iceServers.map((s) => ({ urls: Array.isArray(s.urls) ? (s.urls[0] ?? '') : s.urls, username: s.username, credential: s.credential })),
      iceAdditionalHostAddresses: options.loopbackCandidates ? ['127.0.0.1'] : undefined,
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: 'minptime=10;useinbandfec=1' })],
        video: [],
      },
      headerExtensions: { audio: [useAudioLevelIndication()], video: [] },
    });
    this.pc.onIceCandidate.subscribe((c?: RTCIceCandidate) => {
      if (this.closed) return;
      const candidate = c ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null;
      if (this.describing > 0 || !this.described) this.heldCandidates.push(candidate);
      else this.emit('candidate', candidate);
    });
    this.pc.connectionStateChange.subscribe((state) => {
      const mapped: TransportState =
        state === 'connected' ? 'connected' : state === 'failed' ? 'failed' : state === 'closed' ? 'closed' : state === 'new' ? 'new' : 'connecting';
      this.setConnection(mapped);
    });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.receive(rtp));
    });
  }

  private setConnection(state: TransportState): void {
    if (state === this.connection) return;
    this.connection = state;
    this.emit('connection', state);
  }

  private receive(packet: RtpPacket): void {
    const { rtp, level } = fromWerift(packet, this.audioLevelId);
    this.emit('rtp', rtp, level);
  }

  private attachSender(): void {
    if (this.senderAttached) return;
    this.senderAttached = true;
    const existing = this.pc.getTransceivers().find((t) => t.kind === 'audio');
    if (existing) {
      existing.setDirection('sendrecv');
      void existing.sender.replaceTrack(this.sendTrack);
    } else {
      this.pc.addTransceiver(this.sendTrack, { direction: 'sendrecv' });
    }
    const sender = this.pc.getTransceivers().find((t) => t.kind === 'audio')?.sender;
    sender?.onRtcp.subscribe((rtcp) => {
      if (rtcp instanceof RtcpRrPacket && sender) this.noteReceiverReport(rtcp, sender);
    });
  }

  /**
   * werift's sender has matched the report to its own sender report by then and measured the RTT against the
   * wall-clock time it sent that report. Computing now − LSR − DLSR ourselves is wrong with werift: its NTP fraction
   * holds decimal digits, not 1/2^32 s, so LSR is off by up to a second.
   */
  private noteReceiverReport(rr: RtcpRrPacket, sender: RTCRtpSender): void {
    const ours = rr.reports.find((r) => r.ssrc === sender.ssrc);
    if (!ours) return;
    const rttSeconds = (sender as unknown as { rtt?: number }).rtt;
    this.emit('receiverReport', ours.fractionLost / 256, rttSeconds !== undefined && rttSeconds >= 0 ? rttSeconds * 1000 : null);
  }

  async offer(): Promise<void> {
    await this.describe('offer', async () => {
      this.attachSender();
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      return withAudioPreferences(this.pc.localDescription?.sdp ?? offer.sdp, this.options.frameMs);
    });
  }

  /**
   * Emits the description `make` produces, then the candidates gathered while it was made: the remote must have our
   * description before it can add our candidates. When `make` fails, they wait for the next description.
   */
  private async describe(kind: 'offer' | 'answer', make: () => Promise<string>): Promise<void> {
    this.describing += 1;
    let sdp: string;
    try {
      sdp = await make();
    } finally {
      this.describing -= 1;
    }
    this.emit('description', kind, sdp);
    this.described = true;
    if (this.describing > 0) return;
    for (const c of this.heldCandidates.splice(0)) if (!this.closed) this.emit('candidate', c);
  }

  async acceptOffer(sdp: string): Promise<void> {
    await this.describe('answer', async () => {
      const { sdp: addressed, candidates } = splitMdnsCandidates(sdp);
      await this.pc.setRemoteDescription({ type: 'offer', sdp: addressed });
      this.audioLevelId = extensionId(sdp, AUDIO_LEVEL_URI);
      await this.remoteDescriptionApplied();
      this.addMdnsCandidates(candidates);
      this.attachSender();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      return withAudioPreferences(this.pc.localDescription?.sdp ?? answer.sdp, this.options.frameMs);
    });
  }

  async acceptAnswer(sdp: string): Promise<void> {
    const { sdp: addressed, candidates } = splitMdnsCandidates(sdp);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: addressed });
    this.audioLevelId = extensionId(sdp, AUDIO_LEVEL_URI);
    await this.remoteDescriptionApplied();
    this.addMdnsCandidates(candidates);
  }

  /** A description's own mDNS candidates, resolved without holding up the answer. */
  private addMdnsCandidates(candidates: CandidateInit[]): void {
    for (const c of candidates) void this.addCandidate(c).catch((e: Error) => this.emit('mdnsUnresolved', mdnsHost(c.candidate) ?? c.candidate, `ICE refused it: ${e.message}`));
  }

  /**
   * Candidates may arrive before the description they belong to; they wait for it. A browser's mDNS name is resolved
   * here, so werift only ever sees addresses (it would otherwise drop a name it cannot resolve without a word).
   */
  async addCandidate(candidate: CandidateInit | null): Promise<void> {
    if (!candidate) return;
    // An empty candidate ends the remote's candidates (Firefox sends one per m-line). Passed on at once, it would
    // tell werift that there are none while an mDNS name is still being resolved, and werift fails the call.
    if (candidate.candidate.trim() === '') await Promise.allSettled([...this.arriving]);
    const arriving = this.addResolved(candidate);
    this.arriving.add(arriving);
    try {
      await arriving;
    } finally {
      this.arriving.delete(arriving);
    }
  }

  private async addResolved(candidate: CandidateInit): Promise<void> {
    const host = mdnsHost(candidate.candidate);
    if (host) {
      const address = await this.resolveMdns(host);
      if (address === undefined || this.closed) return;
      candidate = { ...candidate, candidate: withAddress(candidate.candidate, address) };
    }
    if (!this.remoteDescriptionSet) {
      this.pendingCandidates.push(candidate);
      return;
    }
    await this.pc.addIceCandidate({ candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? undefined, sdpMLineIndex: candidate.sdpMLineIndex ?? undefined });
  }

  private async resolveMdns(host: string): Promise<string | undefined> {
    if (!this.options.resolveMdns) {
      this.emit('mdnsUnresolved', host, 'this station resolves no mDNS names');
      return undefined;
    }
    try {
      const address = await this.options.resolveMdns(host);
      if (!this.closed) this.emit('mdnsResolved', host, address);
      return address;
    } catch (e) {
      if (!this.closed) this.emit('mdnsUnresolved', host, e instanceof MdnsResolutionError ? e.reason : (e as Error).message);
      return undefined;
    }
  }

  private async remoteDescriptionApplied(): Promise<void> {
    this.remoteDescriptionSet = true;
    for (const c of this.pendingCandidates.splice(0)) await this.addCandidate(c);
  }

  /** One frame to this remote, while the call is up. */
  send(rtp: OutgoingRtp, level: number): void {
    if (this.connection === 'connected') this.sendTrack.writeRtp(toWerift(rtp, this.audioLevelId, level));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.setConnection('closed');
    this.sendTrack.stop();
    await this.pc.close().catch(() => undefined);
  }
}
