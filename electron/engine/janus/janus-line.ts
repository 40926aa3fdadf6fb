/**
 * A party line carried by a Janus VideoRoom (audio only): one werift peer publishes our microphone to the room, one
 * more subscribes to every other member's feed (Janus 1.x multistream: one connection, one m-line per feed). Janus
 * forwards Opus packets as they are, so each feed plays through its own playout buffer and our mixer, exactly as a
 * mesh peer's. Feeds are named by the member's station id (its `display`).
 */
import { silentLog, type Log } from '../../common/log';
import { EventEmitter } from 'node:events';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket, useAudioLevelIndication, type RTCIceCandidate } from 'werift';
import { JanusSession, type JanusEvent, type JanusHandle } from '../../common/janus-client';
import type { JanusLineAccess } from '../../common/signalling-protocol';
import { AUDIO_LEVEL_URI } from '../audio-level';
import { extensionId, withAudioPreferences } from '../sdp-audio';
import { installSrtpIndexEstimation } from '../srtp/werift-rollover';
import type { OutgoingRtp } from '../network/rtp-frames';
import { fromWerift, toWerift } from '../network/werift-rtp';
import type { JanusLineEvents, JanusLineState } from '../network/network-protocol';
import { nodeJanusSocket } from '../../net/janus-socket';

installSrtpIndexEstimation();

export type { JanusLineEvents, JanusLineState };

export interface JanusLineOptions {
  line: string;
  stationId: string;
  access: JanusLineAccess;
  frameMs: number;
  loopbackCandidates: boolean;
  /** Publish our microphone to the room (default). A listen-only member (a bench's synthetic crowd) does not. */
  publish?: boolean;
  log?: Log;
}

interface Publisher {
  id: number;
  display?: string;
}

function audioPeer(loopback: boolean): RTCPeerConnection {
  return new RTCPeerConnection({
    iceServers: [],
    iceAdditionalHostAddresses: loopback ? ['127.0.0.1'] : undefined,
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: 'minptime=10;useinbandfec=1' })],
      video: [],
    },
    headerExtensions: { audio: [useAudioLevelIndication()], video: [] },
  });
}

export class JanusLine extends EventEmitter<JanusLineEvents> {
  state: JanusLineState = 'connecting';
  private session: JanusSession | undefined;
  private publisherHandle: JanusHandle | undefined;
  private subscriberHandle: JanusHandle | undefined;
  private readonly sendTrack = new MediaStreamTrack({ kind: 'audio' });
  private publishPc: RTCPeerConnection | undefined;
  private subscribePc: RTCPeerConnection | undefined;
  private publishLevelId: number | undefined;
  private subscribeLevelId: number | undefined;
  private published = false;
  /** Subscriber negotiations run one after another: Janus answers each `subscribe` with a fresh offer. */
  private subscribing: Promise<unknown> = Promise.resolve();
  private readonly feeds = new Map<number, string>();
  private readonly midToStation = new Map<string, string>();
  private closed = false;
  private readonly log: Log;

  constructor(private readonly opts: JanusLineOptions) {
    super();
    this.log = (opts.log ?? silentLog).child({ component: 'janus', subject: opts.line });
  }

  private setState(state: JanusLineState, detail: string): void {
    if (this.closed && state !== 'closed') return;
    if (state === this.state && state !== 'failed') return;
    this.state = state;
    this.emit('state', state, detail);
  }

  /** Joins the room as a publisher and subscribes to everyone already publishing. Failures end as state `failed`. */
  async start(): Promise<void> {
    const { access, stationId } = this.opts;
    try {
      // The server's pin, when it gave one, is the certificate trusted (as the server trusts it).
      const session = await JanusSession.connect(access.url, nodeJanusSocket, access.fingerprint !== undefined ? { fingerprint: access.fingerprint } : {});
      this.session = session;
      session.onClose((reason) => {
        if (!this.closed) this.setState('failed', reason);
      });
      const pub = await session.attach('janus.plugin.videoroom');
      this.publisherHandle = pub;
      pub.onEvent((e) => this.onPublisherEvent(e));
      const joined = await pub.message({ request: 'join', ptype: 'publisher', room: access.room, display: stationId, ...(access.pin ? { pin: access.pin } : {}) });
      if (this.opts.publish !== false) await this.publish(pub);
      else this.setState('connected', 'listening');
      this.addPublishers((joined.data?.publishers as Publisher[] | undefined) ?? []);
    } catch (e) {
      this.setState('failed', (e as Error).message);
    }
  }

  private async publish(handle: JanusHandle): Promise<void> {
    const pc = audioPeer(this.opts.loopbackCandidates);
    this.publishPc = pc;
    pc.addTransceiver(this.sendTrack, { direction: 'sendonly' });
    this.trickle(pc, handle);
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        this.published = true;
        this.setState('connected', 'publishing');
      } else if (s === 'failed') this.setState('failed', 'the connection to Janus failed');
    });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const sdp = withAudioPreferences(pc.localDescription?.sdp ?? offer.sdp, this.opts.frameMs);
    const answer = await handle.message({ request: 'publish', audio: true, video: false, data: false, display: this.opts.stationId }, { type: 'offer', sdp });
    if (!answer.jsep) throw new Error('Janus answered our publish without an SDP');
    await pc.setRemoteDescription(answer.jsep);
    this.publishLevelId = extensionId(answer.jsep.sdp, AUDIO_LEVEL_URI);
  }

  private trickle(pc: RTCPeerConnection, handle: JanusHandle): void {
    pc.onIceCandidate.subscribe((c?: RTCIceCandidate) => {
      if (this.closed) return;
      void handle.trickle(c ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null).catch(() => undefined);
    });
  }

  private onPublisherEvent(e: JanusEvent): void {
    const data = e.data ?? {};
    if (Array.isArray(data.publishers)) this.addPublishers(data.publishers as Publisher[]);
    const gone = (data.unpublished ?? data.leaving) as number | string | undefined;
    if (gone !== undefined && gone !== 'ok') this.removeFeed(Number(gone));
  }

  private addPublishers(publishers: Publisher[]): void {
    const fresh = publishers.filter((p) => !this.feeds.has(p.id) && p.display !== this.opts.stationId);
    if (fresh.length === 0) return;
    for (const p of fresh) this.feeds.set(p.id, p.display ?? String(p.id));
    this.subscribing = this.subscribing.then(() => this.subscribe(fresh.map((p) => p.id))).catch((err: Error) => {
      this.log.warn(`subscribe failed: ${err.message}`);
      this.setState('failed', `subscribing: ${err.message}`);
    });
  }

  private removeFeed(id: number): void {
    const station = this.feeds.get(id);
    if (station === undefined) return;
    this.feeds.delete(id);
    // Its m-line may carry it (or another member) again later: that is a new feed.
    for (const [mid, who] of this.midToStation) if (who === station) this.midToStation.delete(mid);
    this.emit('feed', station, false);
  }

  private async subscribe(ids: number[]): Promise<void> {
    if (this.closed || !this.session) return;
    const { access } = this.opts;
    let answer: JanusEvent;
    if (!this.subscriberHandle) {
      const sub = await this.session.attach('janus.plugin.videoroom');
      this.subscriberHandle = sub;
      sub.onEvent((e) => {
        if (e.jsep?.type === 'offer') this.subscribing = this.subscribing.then(() => this.acceptSubscriberOffer(e)).catch(() => undefined);
      });
      answer = await sub.message({ request: 'join', ptype: 'subscriber', room: access.room, ...(access.pin ? { pin: access.pin } : {}), streams: ids.map((feed) => ({ feed })) });
    } else {
      answer = await this.subscriberHandle.message({ request: 'subscribe', streams: ids.map((feed) => ({ feed })) });
    }
    await this.acceptSubscriberOffer(answer);
  }

  private async acceptSubscriberOffer(e: JanusEvent): Promise<void> {
    const handle = this.subscriberHandle;
    if (!e.jsep || e.jsep.type !== 'offer' || !handle || this.closed) return;
    for (const s of (e.data?.streams as { mid?: string; feed_id?: number; feed_display?: string; active?: boolean }[] | undefined) ?? []) {
      if (s.mid === undefined || s.feed_id === undefined) continue;
      const station = this.feeds.get(s.feed_id) ?? s.feed_display ?? String(s.feed_id);
      if (s.active === false) continue;
      if (this.midToStation.get(s.mid) !== station) {
        this.midToStation.set(s.mid, station);
        this.emit('feed', station, true);
      }
    }
    let pc = this.subscribePc;
    if (!pc) {
      pc = audioPeer(this.opts.loopbackCandidates);
      this.subscribePc = pc;
      this.trickle(pc, handle);
      pc.connectionStateChange.subscribe((s) => this.log.info(`subscriptions ${s}`));
      pc.onTransceiverAdded.subscribe((transceiver) => {
        transceiver.onTrack.subscribe((track) => {
          track.onReceiveRtp.subscribe((rtp) => this.receive(transceiver.mid, rtp));
        });
      });
    }
    await pc.setRemoteDescription(e.jsep);
    this.subscribeLevelId = extensionId(e.jsep.sdp, AUDIO_LEVEL_URI);
    const local = await pc.createAnswer();
    await pc.setLocalDescription(local);
    await handle.message({ request: 'start' }, { type: 'answer', sdp: pc.localDescription?.sdp ?? local.sdp });
  }

  private receive(mid: string | null, rtp: RtpPacket): void {
    const station = mid === null ? undefined : this.midToStation.get(mid);
    if (station === undefined) return;
    const { rtp: received, level } = fromWerift(rtp, this.subscribeLevelId);
    this.emit('rtp', station, received, level);
  }

  /** One frame of our microphone to the room (while we talk on this line). */
  send(rtp: OutgoingRtp, level: number): void {
    if (this.published && !this.closed) this.sendTrack.writeRtp(toWerift(rtp, this.publishLevelId, level));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.setState('closed', 'left');
    this.sendTrack.stop();
    await Promise.all([this.publishPc?.close().catch(() => undefined), this.subscribePc?.close().catch(() => undefined)]);
    await this.session?.close().catch(() => undefined);
  }
}
