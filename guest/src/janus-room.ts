/**
 * The guest on a Janus-carried line: our microphone published to the line's VideoRoom room, and every other
 * member's feed heard through one subscriber connection (Janus 1.x multistream), each in an audio element of its own.
 */
import { JanusSession, type JanusEvent, type JanusHandle, type JanusSocket } from '../../electron/common/janus-client';
import type { JanusLineAccess } from '../../electron/common/signalling-protocol';

interface Publisher {
  id: number;
  display?: string;
}

export class GuestJanusRoom {
  readonly pcs: RTCPeerConnection[] = [];
  private subscriber: RTCPeerConnection | undefined;
  private subscriberHandle: JanusHandle | undefined;
  private subscribing: Promise<unknown> = Promise.resolve();
  private readonly feeds = new Set<number>();
  private readonly audios: HTMLAudioElement[] = [];
  private closed = false;

  private constructor(
    private readonly session: JanusSession,
    private readonly access: JanusLineAccess,
    private readonly selfId: string,
    private readonly muted: () => boolean,
  ) {}

  static async join(access: JanusLineAccess, selfId: string, micTrack: MediaStreamTrack, muted: () => boolean, onLost: (why: string) => void): Promise<GuestJanusRoom> {
    const session = await JanusSession.connect(access.url, (url, protocol) => new WebSocket(url, protocol) as unknown as JanusSocket);
    const room = new GuestJanusRoom(session, access, selfId, muted);
    session.onClose((why) => {
      if (!room.closed) onLost(why);
    });
    const pub = await session.attach('janus.plugin.videoroom');
    pub.onEvent((e) => room.onPublisherEvent(e));
    const joined = await pub.message({ request: 'join', ptype: 'publisher', room: access.room, display: selfId, ...(access.pin ? { pin: access.pin } : {}) });
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
    room.pcs.push(pc);
    pc.onicecandidate = (e) => void pub.trickle(e.candidate ? { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex } : null).catch(() => undefined);
    pc.addTransceiver(micTrack, { direction: 'sendonly' });
    await pc.setLocalDescription();
    const answer = await pub.message({ request: 'publish', audio: true, video: false, data: false, display: selfId }, { type: 'offer', sdp: pc.localDescription?.sdp ?? '' });
    if (!answer.jsep) throw new Error('Janus answered our publish without an SDP');
    await pc.setRemoteDescription(answer.jsep);
    room.addPublishers((joined.data?.publishers as Publisher[] | undefined) ?? []);
    return room;
  }

  /** Listen key: every feed's audio element follows it. */
  setMuted(muted: boolean): void {
    for (const a of this.audios) a.muted = muted;
  }

  private onPublisherEvent(e: JanusEvent): void {
    if (Array.isArray(e.data?.publishers)) this.addPublishers(e.data.publishers as Publisher[]);
  }

  private addPublishers(list: Publisher[]): void {
    const fresh = list.filter((p) => !this.feeds.has(p.id) && p.display !== this.selfId);
    if (fresh.length === 0) return;
    for (const p of fresh) this.feeds.add(p.id);
    this.subscribing = this.subscribing.then(() => this.subscribe(fresh.map((p) => p.id))).catch((e: Error) => console.warn(`janus subscribe: ${e.message}`));
  }

  private async subscribe(ids: number[]): Promise<void> {
    if (this.closed) return;
    let answer: JanusEvent;
    if (!this.subscriberHandle) {
      const sub = await this.session.attach('janus.plugin.videoroom');
      this.subscriberHandle = sub;
      sub.onEvent((e) => {
        if (e.jsep?.type === 'offer') this.subscribing = this.subscribing.then(() => this.accept(e)).catch(() => undefined);
      });
      answer = await sub.message({ request: 'join', ptype: 'subscriber', room: this.access.room, ...(this.access.pin ? { pin: this.access.pin } : {}), streams: ids.map((feed) => ({ feed })) });
    } else {
      answer = await this.subscriberHandle.message({ request: 'subscribe', streams: ids.map((feed) => ({ feed })) });
    }
    await this.accept(answer);
  }

  private async accept(e: JanusEvent): Promise<void> {
    const handle = this.subscriberHandle;
    if (!e.jsep || e.jsep.type !== 'offer' || !handle || this.closed) return;
    if (!this.subscriber) {
      const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
      this.subscriber = pc;
      this.pcs.push(pc);
      pc.onicecandidate = (ev) => void handle.trickle(ev.candidate ? { candidate: ev.candidate.candidate, sdpMid: ev.candidate.sdpMid, sdpMLineIndex: ev.candidate.sdpMLineIndex } : null).catch(() => undefined);
      pc.ontrack = (ev) => {
        // Playing the stream is what makes Chrome pull (and decode) the track.
        const audio = document.createElement('audio');
        audio.autoplay = true;
        audio.muted = this.muted();
        audio.srcObject = new MediaStream([ev.track]);
        document.body.append(audio);
        this.audios.push(audio);
        void audio.play().catch(() => undefined);
      };
    }
    await this.subscriber.setRemoteDescription(e.jsep);
    await this.subscriber.setLocalDescription();
    await handle.message({ request: 'start' }, { type: 'answer', sdp: this.subscriber.localDescription?.sdp ?? '' });
  }

  close(): void {
    this.closed = true;
    for (const pc of this.pcs) pc.close();
    for (const a of this.audios) {
      a.srcObject = null;
      a.remove();
    }
    void this.session.close();
  }
}
