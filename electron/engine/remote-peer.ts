import { EventEmitter } from 'node:events';
import type { PeerConnection } from '../common/contract';
import { OpusDecoder } from '../../native/opus';
import { PlayoutBuffer } from './playout/playout-buffer';
import { LevelMeter } from './meter';
import { SpeakingDetector } from './audio-level';
import type { PeerLink } from './network/network-thread';
import type { CandidateInit, ReceivedRtp, TransportState } from './network/rtp-frames';

export type { CandidateInit };

export interface RemotePeerEvents {
  /** SDP or a trickled candidate to hand to signalling. */
  description: [kind: 'offer' | 'answer', sdp: string];
  candidate: [candidate: CandidateInit | null];
  connection: [state: PeerConnection];
  firstRtp: [];
  /** The remote's RTCP receiver report on what we send: loss over its last report interval, 0..1. */
  receiverReport: [fractionLost: number];
  /** A remote candidate's mDNS name, and the address it goes to ICE with. */
  mdnsResolved: [host: string, address: string];
  /** A remote candidate's mDNS name that could not be resolved: that candidate is lost to ICE, and this says why. */
  mdnsUnresolved: [host: string, reason: string];
}

/**
 * One remote station as the audio thread holds it: its playout buffer, meter and speaking state, fed by the packets
 * its peer connection (on the network thread, behind `link`) receives. Every packet goes into the playout buffer,
 * so a negotiated track can never sit unread.
 */
export class RemotePeer extends EventEmitter<RemotePeerEvents> {
  readonly playout = new PlayoutBuffer({ createDecoder: () => new OpusDecoder() });
  readonly meter = new LevelMeter();
  readonly speech = new SpeakingDetector();
  connection: PeerConnection = 'new';
  /** When ICE+DTLS came up (performance.now()), 0 before. */
  connectedAt = 0;
  lastRtpAt = 0;
  rttMs: number | null = null;

  constructor(readonly link: PeerLink) {
    super();
    link.on('description', (kind, sdp) => this.emit('description', kind, sdp));
    link.on('candidate', (candidate) => this.emit('candidate', candidate));
    link.on('connection', (state) => this.setConnection(state));
    link.on('rtp', (rtp, level) => this.receive(rtp, level));
    link.on('receiverReport', (fractionLost, rttMs) => {
      if (rttMs !== null) this.rttMs = rttMs;
      this.emit('receiverReport', fractionLost);
    });
    link.on('mdnsResolved', (host, address) => this.emit('mdnsResolved', host, address));
    link.on('mdnsUnresolved', (host, reason) => this.emit('mdnsUnresolved', host, reason));
  }

  private setConnection(state: PeerConnection | TransportState): void {
    if (state === this.connection) return;
    if (state === 'connected' && this.connectedAt === 0) this.connectedAt = performance.now();
    this.connection = state;
    this.emit('connection', state);
  }

  /** Stamped as it reaches this thread: a late network thread reads as jitter, which the playout absorbs. */
  private receive(rtp: ReceivedRtp, level: number | undefined): void {
    const now = performance.now();
    if (this.lastRtpAt === 0) this.emit('firstRtp');
    this.lastRtpAt = now;
    if (level !== undefined) this.speech.note(level, now);
    this.playout.insert(rtp, now);
  }

  offer(): Promise<void> {
    return this.link.offer();
  }

  acceptOffer(sdp: string): Promise<void> {
    return this.link.acceptOffer(sdp);
  }

  acceptAnswer(sdp: string): Promise<void> {
    return this.link.acceptAnswer(sdp);
  }

  addCandidate(candidate: CandidateInit | null): Promise<void> {
    return this.link.addCandidate(candidate);
  }

  /** A negotiated track that carries no RTP when it should: visible in health, never silently ignored. */
  markNoRtp(): void {
    if (this.connection === 'connected') this.setConnection('no-rtp');
  }

  markRtpFlowing(): void {
    if (this.connection === 'no-rtp') this.setConnection('connected');
  }

  async close(): Promise<void> {
    this.setConnection('closed');
    await this.link.close().catch(() => undefined);
  }
}
