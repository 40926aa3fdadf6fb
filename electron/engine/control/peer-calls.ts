import type { ConnectConfig, PeerConnection } from '../../common/contract';
import type { Log } from '../../common/log';
import type { ClientMessage, Presence } from '../../common/signalling-protocol';
import type { SignallingLink } from '../../common/signalling-link';
import type { Media, MediaCommand, PeerMediaHealth } from '../media/media-protocol';
import { onRemoteOffer, type Negotiation } from './glare';
import { onAbsent, onBroken, onListed } from './recovery';
import { watchRtp } from './rtp-watch';

interface Remote {
  presence: Presence;
  /** When the remote last started talking to a line we share (for no-RTP detection). */
  talkingSince: number;
  negotiation: Negotiation;
  connection: PeerConnection;
  /** When the media side was told this remote's RTP stopped (performance.now()), 0 while it flows. */
  silentSince: number;
  /** While we wait for the remote to re-offer a call that broke (see recovery.ts). */
  reofferTimer?: NodeJS.Timeout;
  /** Missing from the latest presence list while its call stays up (logged once). */
  absent: boolean;
}

/** What the calls need from the station around them. */
export interface CallContext {
  readonly media: Pick<Media, 'call'>;
  readonly log: Log;
  /** To signalling; a refusal (not joined) is logged by the station, and what it loses is set up anew later. */
  send(msg: ClientMessage): void;
  ourId(): string;
  /** Our signalling while we have one, joined or not. */
  signalling(): Pick<SignallingLink, 'heardSince' | 'probe'> | undefined;
  /** Whether our signalling is joined now. */
  joined(): boolean;
  iceServers(): ConnectConfig['iceServers'];
  /** Whether we share a line with `p` that the mesh (not Janus) carries. */
  needsMesh(p: Presence): boolean;
  /** The calls changed: routing must follow, and the state is published when `announce`. */
  changed(announce: boolean): void;
  /** A call ended: whatever the station keeps about its remote goes. */
  dropped(id: string): void;
  notice(level: 'warn' | 'error', message: string): void;
}

export interface CallTimings {
  noRtpMs: number;
  browserGoneMs: number;
  staleRtpMs: number;
  reofferWaitMs: number;
}

/**
 * The station's calls, one per remote it shares a mesh line with: set up from presence (the newcomer offers), settled
 * in glare (glare.ts), kept across signalling outages and repaired when they break (recovery.ts), and watched for RTP
 * (rtp-watch.ts). Also who the latest presence list names, whether we call them or not.
 */
export class PeerCalls {
  private readonly remotes = new Map<string, Remote>();
  private roster = new Map<string, Presence>();
  /** Who the latest presence list (or `joined`) named. */
  private present = new Set<string>();

  constructor(
    private readonly ctx: CallContext,
    private readonly timings: CallTimings,
  ) {}

  // ---- who is there ------------------------------------------------------------------------------

  has(id: string): boolean {
    return this.remotes.has(id);
  }

  /** The presence of a station we have a call with. */
  presence(id: string): Presence | undefined {
    return this.remotes.get(id)?.presence;
  }

  /** The presence of a station the latest list names, called or not. */
  listed(id: string): Presence | undefined {
    return this.roster.get(id);
  }

  /** The presences of the stations we have calls with. */
  called(): Presence[] {
    return [...this.remotes.values()].map((r) => r.presence);
  }

  /** Everyone the latest list names. */
  roll(): Iterable<Presence> {
    return this.roster.values();
  }

  /** Everyone we know of, the latest presence list over what our calls last heard. */
  everyone(): Presence[] {
    const all = new Map([...this.remotes].map(([id, r]) => [id, r.presence]));
    for (const [id, p] of this.roster) all.set(id, p);
    return [...all.values()];
  }

  /** Off air: nobody is listed. The calls themselves end with `dropAll`. */
  forgetPresence(): void {
    this.roster = new Map();
    this.present = new Set();
  }

  // ---- what signalling says ------------------------------------------------------------------------

  /**
   * A presence list (`newcomer`: the one in our own `joined`; `linesChange`: that joined answers our lines change on a
   * connection that stayed up). Live calls stay, whoever the list leaves out; calls that are not live are set up anew
   * by the side recovery.ts names.
   */
  onPresence(peers: Presence[], newcomer: boolean, linesChange = false): void {
    this.present = new Set(peers.map((p) => p.stationId));
    this.roster = new Map(peers.map((p) => [p.stationId, p]));
    const ourId = this.ctx.ourId();
    for (const p of peers) {
      const existing = this.remotes.get(p.stationId);
      // Only the lines the mesh carries need a call; a member we share Janus lines with alone is heard through Janus.
      if (!this.ctx.needsMesh(p)) {
        if (existing) void this.drop(p.stationId, 'its lines with us are on Janus');
        continue;
      }
      // After a lines change we are new only to the stations we had no call with.
      const action = onListed(ourId, p.stationId, existing, newcomer && !(linesChange && existing));
      if (existing) {
        if (existing.presence.talking.length === 0 && p.talking.length > 0) existing.talkingSince = performance.now();
        existing.presence = p;
        if (existing.absent) this.peerLog(p.stationId).info(`back in presence (${existing.connection})`);
        existing.absent = false;
      }
      if (action === 'offer') this.offerTo(this.add(p));
      else if (action === 'wait') this.add(p);
      else if (action !== 'keep') void this.restart(p.stationId, action === 'restart-offer', 'renegotiate');
    }
    for (const id of [...this.remotes.keys()]) if (!this.present.has(id)) this.onGone(id, 'left');
  }

  /** A remote's talk keys changed; false when it is nobody we know. */
  onTalk(from: string, lines: string[]): boolean {
    const listed = this.roster.get(from);
    if (listed) this.roster.set(from, { ...listed, talking: lines });
    const r = this.remotes.get(from);
    if (!r) return listed !== undefined;
    const wasTalkingToUs = r.presence.talking.length > 0;
    r.presence = { ...r.presence, talking: lines };
    if (!wasTalkingToUs && lines.length > 0) r.talkingSince = performance.now();
    return true;
  }

  /** `hangUp`: the peer addressed the `bye` to us and ends the call; otherwise the server saw it go. */
  onBye(id: string, hangUp: boolean): void {
    if (hangUp) void this.drop(id, 'bye');
    else this.onGone(id, 'bye');
  }

  async onOffer(from: string, sdp: string): Promise<void> {
    const listed = this.roster.get(from);
    if (listed && !this.ctx.needsMesh(listed)) {
      this.peerLog(from).info('offer ignored: every line we share with it is on Janus');
      return;
    }
    let remote = this.remotes.get(from);
    const decision = onRemoteOffer(this.ctx.ourId(), from, remote);
    if (decision === 'ignore') return;
    if (remote && decision === 'restart') {
      const presence = remote.presence;
      const why = remote.negotiation === 'offering' ? 'glare' : 'renegotiate';
      await this.drop(from, why, false);
      remote = this.add(presence);
    }
    remote ??= this.add(listed ?? { stationId: from, name: from, kind: 'browser', lines: [], talking: [] });
    remote.negotiation = 'stable';
    this.ctx.changed(false);
    await this.ctx.media.call({ op: 'acceptOffer', id: from, sdp }).catch((e: Error) => {
      this.peerLog(from).warn(`bad offer: ${e.message}`);
      this.ctx.notice('warn', `${from}: could not accept its offer (${e.message})`);
    });
  }

  onAnswer(from: string, sdp: string): void {
    const r = this.remotes.get(from);
    if (!r) return;
    r.negotiation = 'stable';
    this.mediaCall({ op: 'acceptAnswer', id: from, sdp }, from, 'bad answer');
  }

  onCandidate(from: string, candidate: Extract<MediaCommand, { op: 'addCandidate' }>['candidate']): void {
    if (this.remotes.has(from)) this.mediaCall({ op: 'addCandidate', id: from, candidate }, from, 'bad candidate');
  }

  /**
   * What needs a call changed (a line moved between the mesh and Janus, private talk began or its call lingered
   * long enough): calls nothing needs now end, saying `why`; members that now need one get it.
   */
  reconsider(why: string): void {
    const ourId = this.ctx.ourId();
    const joined = this.ctx.joined();
    for (const p of this.roster.values()) {
      const existing = this.remotes.get(p.stationId);
      if (!this.ctx.needsMesh(p)) {
        if (existing) void this.drop(p.stationId, why);
      } else if (!existing && joined && ourId < p.stationId) {
        // Of each pair the lower station id offers, as when a call is repaired, and the other answers.
        this.offerTo(this.add(p));
      }
    }
  }

  // ---- what the media side says --------------------------------------------------------------------

  onConnection(id: string, state: PeerConnection): void {
    const r = this.remotes.get(id);
    if (!r) return;
    r.connection = state;
    if (state === 'failed') void this.repair(id, 'failed');
  }

  /** Each health report: a remote that talks and sends nothing is marked, a browser gone quiet dropped, a stale call repaired. */
  watch(peers: PeerMediaHealth[]): void {
    const now = performance.now();
    for (const h of peers) {
      const r = this.remotes.get(h.id);
      if (!r) continue;
      const verdict = watchRtp(h, { kind: r.presence.kind, talkingForMs: r.presence.talking.length > 0 && r.talkingSince > 0 ? now - r.talkingSince : null }, this.timings);
      if (verdict === 'gone') void this.drop(h.id, `no RTP for ${Math.round(h.rtpAgoMs ?? 0)} ms`);
      else if (verdict === 'no-rtp') {
        r.silentSince = now;
        this.mediaCall({ op: 'markRtp', id: h.id, flowing: false }, h.id);
      } else if (verdict === 'flowing') {
        r.silentSince = 0;
        this.mediaCall({ op: 'markRtp', id: h.id, flowing: true }, h.id);
      } else if (r.silentSince > 0 && h.connection === 'no-rtp' && r.presence.talking.length > 0 && now - r.silentSince > this.timings.staleRtpMs) {
        r.silentSince = now; // held calls are looked at again after as long
        void this.repair(h.id, 'silent', now - (h.rtpAgoMs ?? 0));
      }
    }
  }

  // ---- ending calls --------------------------------------------------------------------------------

  /** Leaving the air: a hang-up to each peer, since the server's own `bye` cannot tell it from a lost connection. */
  hangUpAll(): void {
    for (const id of this.remotes.keys()) this.ctx.send({ type: 'bye', to: id });
  }

  async dropAll(why: string): Promise<void> {
    await Promise.all([...this.remotes.keys()].map((id) => this.drop(id, why)));
  }

  async drop(id: string, why: string, announce = true): Promise<void> {
    const r = this.remotes.get(id);
    if (!r) return;
    this.remotes.delete(id);
    clearTimeout(r.reofferTimer);
    this.ctx.dropped(id);
    await this.ctx.media.call({ op: 'dropPeer', id, why }).catch((e: Error) => this.peerLog(id).warn(`close: ${e.message}`));
    this.ctx.changed(announce);
  }

  // ---- setting calls up ----------------------------------------------------------------------------

  /** The server says a peer left (a `bye` without `to`, or a presence list without it): a live call stays. */
  private onGone(id: string, why: string): void {
    const r = this.remotes.get(id);
    if (!r) return;
    this.present.delete(id);
    if (onAbsent(r) === 'drop') {
      void this.drop(id, why);
      return;
    }
    if (!r.absent) this.peerLog(id).info(`${why} signalling; its call stays up (${r.connection})`);
    r.absent = true;
  }

  private offerTo(remote: Remote): void {
    remote.negotiation = 'offering';
    const id = remote.presence.stationId;
    this.mediaCall({ op: 'offer', id }, id, 'offer failed');
  }

  /** A call that failed or went silent: repaired, dropped or held, as recovery.ts decides. */
  private async repair(id: string, why: 'failed' | 'silent', quietSinceMs = 0): Promise<void> {
    if (!this.remotes.has(id)) return;
    const signalling = this.ctx.signalling();
    const confirmed = signalling?.heardSince(quietSinceMs) ?? false;
    const action = onBroken(this.ctx.ourId(), id, why, { joined: this.ctx.joined(), present: this.present.has(id), confirmed });
    if (why === 'silent' && action === 'hold' && !confirmed) signalling?.probe();
    this.peerLog(id).info(`${why}: ${action}`);
    if (action === 'drop') await this.drop(id, why);
    else if (action !== 'hold') await this.restart(id, action === 'restart-offer', why);
  }

  /** A fresh peer in place of a call that is not live: it offers, or waits for the remote's offer. */
  private async restart(id: string, offer: boolean, why: string): Promise<void> {
    const r = this.remotes.get(id);
    if (!r) return;
    await this.drop(id, why, false);
    // An offer from the remote may have set up a fresh call while the old one closed.
    if (this.remotes.has(id) || !this.ctx.signalling()) return;
    const fresh = this.add(r.presence);
    // The presence list that led here pushed its routing before this peer existed: without this it stays unrouted.
    // After the offer, in the order onPresence uses.
    if (offer) {
      this.offerTo(fresh);
      this.ctx.changed(false);
      return;
    }
    this.ctx.changed(false);
    fresh.reofferTimer = setTimeout(() => {
      if (this.remotes.get(id) !== fresh || fresh.negotiation !== 'new' || !this.ctx.joined() || !this.present.has(id)) return;
      this.peerLog(id).info(`no offer came in ${this.timings.reofferWaitMs} ms; offering`);
      this.offerTo(fresh);
    }, this.timings.reofferWaitMs);
  }

  private add(presence: Presence): Remote {
    const remote: Remote = { presence, talkingSince: presence.talking.length ? performance.now() : 0, negotiation: 'new', connection: 'new', silentSince: 0, absent: false };
    this.remotes.set(presence.stationId, remote);
    this.mediaCall({ op: 'addPeer', id: presence.stationId, iceServers: this.ctx.iceServers() }, presence.stationId);
    return remote;
  }

  private peerLog(id: string): Log {
    return this.ctx.log.child({ component: 'peer', subject: id });
  }

  /** A command to the media side about peer `id` whose outcome nobody waits for: a failure goes to the log. */
  private mediaCall(command: Parameters<Media['call']>[0], id: string, what = 'failed'): void {
    this.ctx.media.call(command).catch((e: Error) => this.peerLog(id).warn(`${what}: ${e.message}`));
  }
}
