import { EventEmitter } from 'node:events';
import type {
  ConnectConfig,
  DeviceList,
  DeviceSelection,
  EventName,
  EventPayload,
  LineJoin,
  LineState,
  MasterState,
  DirectState,
  DiscoveredHost,
  PeerHealth,
  PresencePeer,
  StationState,
} from '../common/contract';
import type { ClientMessage, LineCarrierMessage, Presence, RelayedCall, RelayedDirect } from '../common/signalling-protocol';
import type { SignallingLink, StationNetwork } from '../common/signalling-link';
import { randomIdSuffix, slugStationId } from '../common/station-id';
import { relayRecord, silentLog, type Log, type LogBindings } from '../common/log';
import { StationLineCarriers } from './janus/line-carriers';
import { deviceList, scanDevices } from '../../native/bridge';
import { LineKeys } from './control/line-keys';
import { keepSecrets } from './control/line-credentials';
import { CallLights } from './control/call-lights';
import { MasterSection } from './control/master-section';
import { DIRECT_CALL_LINGER_MS, DirectTalk } from './control/direct-talk';
import { PeerCalls } from './control/peer-calls';
import { metersByStation, peerHealth } from './control/health-report';
import { routingPlan, SendOnChange } from './control/routing-plan';
import { serverOnAir, type ServerOnAir } from './control/server-on-air';
import type { DeviceChoice, FrameMs, LineMix, Media, MediaEvent, MediaOptions, PeerMediaHealth, Routing, SpeakerHealth } from './media/media-protocol';
import { WorkerMedia } from './media/worker-media';

export type { DeviceChoice, FrameMs } from './media/media-protocol';

export interface StationOptions {
  /** Opus frame (and RTP packet) duration. */
  frameMs?: FrameMs;
  bitrate?: number;
  /**
   * Opus's tuning. 'audio' (the default) keeps the waveform: at intercom bitrates it codes with CELT, which carries
   * program feeds, noise and several voices as faithfully as one voice, and libopus still switches to SILK with
   * in-band FEC when the receiver reports loss. 'voip' codes speech parametrically (bench codec: 6.7 dB segmental
   * SNR at 32 kb/s in 10 ms frames against 19.5 for 'audio'). 'voip' looks 6.5 ms ahead; 'audio' looks 2.5 ms
   * ahead while the path is clean and 6.5 ms while it carries FEC (see VoiceEncoder).
   */
  application?: 'voip' | 'audio';
  /** Bridge chunk: 5 or 10 ms. */
  chunkMs?: 5 | 10;
  /** Chunks queued ahead of the speaker at first. */
  playbackQueue?: number;
  metersHz?: number;
  healthHz?: number;
  /** Remote says it talks to us but no RTP arrives for this long: the track is reported `no-rtp`. */
  noRtpMs?: number;
  /** A browser guest streams continuously; this long without RTP means its tab is gone. */
  browserGoneMs?: number;
  /** A station that talks to us and has sent no RTP for this long (after `noRtpMs`): its call is set up anew. */
  staleRtpMs?: number;
  /** The side that waits for a re-offer (see control/recovery.ts) offers itself when none came within this long. */
  reofferWaitMs?: number;
  loopbackCandidates?: boolean;
  /** Ask rtkit for real-time scheduling of the audio threads (default true; `--priority normal` turns it off). */
  realtime?: boolean;
  /**
   * The station's data folder: the generated TLS certificate a hosting station serves, and the certificates of the
   * hosts it joined (trust on first use). Without one both last as long as the process.
   */
  dataDir?: string;
  /** Certificate and key files a hosting station serves instead of its generated one. */
  tls?: { certFile: string; keyFile: string };
  /** The station's logger; each part logs through a child of it per component. */
  log?: Log;
}

/** The station's collaborators, injected where a test or a host wants others than the defaults. */
export interface StationParts {
  /** The media side; by default a MediaEngine in a worker thread of its own. */
  createMedia?: (options: MediaOptions) => Media;
  /** Signalling: joining, hosting and trust; the composition root passes the signalling folder's. */
  network: StationNetwork;
}

export type StationEvents = { event: [name: EventName, payload: EventPayload<EventName>] };

/**
 * A station's control side and the composition root of its two halves: signalling (joining lines, presence,
 * negotiating peers), line keys and health reporting here; devices, peers, playout and mixing in the media side,
 * which this side drives by messages and which never waits on it.
 */
export class Station extends EventEmitter<StationEvents> {
  private readonly log: Log;
  private readonly signalLog: Log;
  private readonly media: Media;
  private readonly network: StationNetwork;
  private readonly dataDir: string | undefined;
  private readonly tlsFiles: StationOptions['tls'];
  /** Set when the server's certificate was refused: the connection stays in error instead of going idle. */
  private untrusted = false;
  private readonly keys = new LineKeys();
  private readonly calls = new CallLights();
  private readonly master = new MasterSection();
  private readonly direct = new DirectTalk();
  private directLinger: NodeJS.Timeout | undefined;
  private readonly lineMixOut = new SendOnChange<LineMix>((lines) => this.mediaCall({ op: 'setLineMix', lines }, { component: 'mixer' }, 'line meters'));
  private readonly routingOut = new SendOnChange<Routing>((routing) => this.mediaCall({ op: 'setRouting', routing }, { component: 'mixer' }, 'routing'));
  private readonly peers: PeerCalls;
  /** How each line travels (mesh or Janus). */
  private readonly carriers = new StationLineCarriers();
  /** Whether our signalling is joined now. */
  private joined = false;
  private selection: DeviceSelection = { inputId: null, outputId: null, inputState: 'missing', outputState: 'missing' };
  private latestHealth: PeerMediaHealth[] = [];
  private speaker: SpeakerHealth | null = null;
  private signalling: SignallingLink | undefined;
  private onAir: ServerOnAir | undefined;
  private config: ConnectConfig | undefined;
  private stationId: string | null = null;
  private connection: StationState['connection'] = 'idle';
  private error: string | undefined;
  private hosting: StationState['hosting'] = null;

  constructor(options: StationOptions, parts: StationParts) {
    super();
    this.log = options.log ?? silentLog;
    this.signalLog = this.log.child({ component: 'signal' });
    this.dataDir = options.dataDir;
    this.tlsFiles = options.tls;
    const mediaOptions: MediaOptions = {
      frameMs: options.frameMs ?? 10,
      bitrate: options.bitrate ?? 32000,
      application: options.application ?? 'audio',
      chunkMs: options.chunkMs ?? 10,
      playbackQueue: options.playbackQueue ?? 2,
      // 25 Hz so that timer slack never takes the published rate below the 20 Hz a meter needs.
      metersHz: options.metersHz ?? 25,
      healthHz: options.healthHz ?? 2,
      loopbackCandidates: options.loopbackCandidates ?? true,
      realtime: options.realtime ?? true,
    };
    this.media = (parts.createMedia ?? ((o) => new WorkerMedia(o)))(mediaOptions);
    this.network = parts.network;
    this.media.onEvent((e) => this.onMedia(e));
    const timings = {
      noRtpMs: options.noRtpMs ?? 2000,
      browserGoneMs: options.browserGoneMs ?? 3000,
      staleRtpMs: options.staleRtpMs ?? 10_000,
      reofferWaitMs: options.reofferWaitMs ?? 3000,
    };
    this.peers = new PeerCalls(
      {
        media: this.media,
        log: this.log,
        send: (msg) => this.sendSignal(msg),
        ourId: () => this.stationId ?? '',
        signalling: () => this.signalling,
        joined: () => this.joined,
        iceServers: () => this.config?.iceServers ?? [],
        needsMesh: (p) => this.carriers.needsMesh(p) || this.direct.needsCall(p.stationId),
        changed: (announce) => {
          this.pushRouting();
          if (announce) this.publishState();
        },
        dropped: (id) => this.direct.forget(id),
        notice: (level, message) => this.publish('notice', { level, message }),
      },
      timings,
    );
  }

  // ---- what the media side reports -----------------------------------------------------------

  private onMedia(e: MediaEvent): void {
    switch (e.type) {
      case 'log':
        relayRecord(this.log, e.record);
        return;
      case 'description':
        if (this.peers.has(e.id)) this.sendSignal({ type: e.kind, to: e.id, sdp: e.sdp });
        return;
      case 'candidate':
        if (this.peers.has(e.id)) this.sendSignal({ type: 'candidate', to: e.id, candidate: e.candidate });
        return;
      case 'connection':
        this.peers.onConnection(e.id, e.state);
        return;
      case 'notice':
        this.publish('notice', { level: e.level, message: e.message });
        return;
      case 'janus':
        if (!this.carriers.roomReport(e.line, e.state, e.detail)) return;
        if (e.state === 'failed') this.publish('notice', { level: 'error', message: `line ${e.line}: Janus: ${e.detail}` });
        this.publishState();
        return;
      case 'devices':
        this.selection = e.selection;
        this.publish('devices', { selection: e.selection });
        this.publishState();
        return;
      case 'health':
        this.selection = e.selection;
        this.latestHealth = e.peers;
        this.speaker = e.speaker;
        this.peers.watch(e.peers);
        this.publish('health', { peers: this.health(), ...(e.speaker ? { speaker: e.speaker } : {}) });
        return;
      case 'meters':
        this.publish('meters', { t: e.t, input: e.input, output: e.output, peers: metersByStation(e.peers), lines: e.lines });
        return;
    }
  }

  // ---- devices -------------------------------------------------------------------------------

  /**
   * The devices present now, including any plugged in while the station runs: from a scan in a child process, since
   * this process's PortAudio keeps the table from when the streams opened (see native/bridge/device-scan.ts). The scan
   * is spawned here, not on the media thread, which spawning would hold up.
   */
  async listDevices(): Promise<DeviceList> {
    const [present, onAir] = await Promise.all([scanDevices().then(deviceList), this.media.call({ op: 'onAirDevices' })]);
    // A scan elsewhere cannot open a device this process holds exclusively (a raw ALSA hw device), and PortAudio
    // leaves out what it cannot open: the picker must not lose the device on air.
    const merged = <T extends { id: string }>(list: T[], extra: T[]) => [...list, ...extra.filter((d) => !list.some((p) => p.id === d.id))];
    return { ...present, inputs: merged(present.inputs, onAir.inputs), outputs: merged(present.outputs, onAir.outputs) };
  }

  /** Opens (or reopens) the sound card. A bad id is a BridgeError naming `inputId`/`outputId`; nothing else changes. */
  async selectDevices(choice: DeviceChoice): Promise<DeviceSelection> {
    return this.media.call({ op: 'selectDevices', choice });
  }

  setTestTone(on: boolean, frequencyHz?: number, levelDb?: number): Promise<{ on: boolean }> {
    return this.media.call({ op: 'setTestTone', on, ...(frequencyHz !== undefined ? { frequencyHz } : {}), ...(levelDb !== undefined ? { levelDb } : {}) });
  }

  // ---- lines -------------------------------------------------------------------------------------

  setTalk(line: string, on: boolean): LineState {
    this.keys.get(line).talk = on;
    this.signalling?.setTalking(this.master.talking(this.keys.talking()));
    this.pushRouting();
    this.publishState();
    return this.lineState(line);
  }

  setListen(line: string, on: boolean): LineState {
    this.keys.get(line).listen = on;
    this.pushRouting();
    this.publishState();
    return this.lineState(line);
  }

  setVolume(line: string, volume: number): LineState {
    this.keys.get(line).volume = volume;
    this.pushRouting();
    this.publishState();
    return this.lineState(line);
  }

  /** Gains and send targets go to the mixer when they change, not polled at audio rate. */
  private pushRouting(): void {
    const plan = routingPlan({ keys: this.keys, master: this.master, direct: this.direct }, this.carriers, this.peers.called(), this.peers.roll());
    this.lineMixOut.offer(plan.lineMix);
    this.routingOut.offer(plan.routing);
  }

  private lineState(line: string): LineState {
    const k = this.keys.get(line);
    const everyone = this.peers.everyone();
    const talkers = everyone.filter((p) => p.talking.includes(line)).map((p) => ({ stationId: p.stationId, name: p.name }));
    const members = everyone.filter((p) => p.lines.includes(line)).map((p) => ({ stationId: p.stationId, name: p.name, kind: p.kind }));
    return { line, talk: k.talk, listen: k.listen, volume: k.volume, talkers, members, call: this.calls.get(line), carrier: this.carriers.state(line) };
  }

  // ---- the operating panel's extras: call signal, all talk off, master section -------------------

  /** Flashes the line's call light at every member; the server ends it on answer or after CALL_TIMEOUT_MS. */
  callLine(line: string): LineState {
    this.keys.get(line);
    this.requireSignalling().send({ type: 'call', line, on: true });
    return this.lineState(line);
  }

  answerCall(line: string): LineState {
    this.keys.get(line);
    this.requireSignalling().send({ type: 'call', line, on: false });
    return this.lineState(line);
  }

  /** Line keys and private talk alike. */
  allTalkOff(): StationState {
    for (const line of this.keys.talking()) this.keys.get(line).talk = false;
    for (const target of this.direct.state().talkingTo) {
      this.direct.setTalk(target, false);
      this.signalling?.send({ type: 'direct', to: target.stationId, on: false });
      this.directCallsChanged(false);
    }
    this.signalling?.setTalking([]);
    this.pushRouting();
    this.publishState();
    return this.state();
  }

  setMicMute(muted: boolean): MasterState {
    this.master.micMuted = muted;
    this.signalling?.setTalking(this.master.talking(this.keys.talking()));
    this.pushRouting();
    this.publishState();
    return this.master.state();
  }

  /** Hosts advertised on the LAN; the first call starts browsing, which goes on while the station runs. */
  lanHosts(): { hosts: DiscoveredHost[] } {
    return { hosts: this.network.lan?.hosts() ?? [] };
  }

  setCallTone(on: boolean): MasterState {
    this.master.callTone = on;
    this.publishState();
    return this.master.state();
  }

  setMasterVolume(volume: number): MasterState {
    this.master.volume = volume;
    this.mediaCall({ op: 'setMasterVolume', volume }, { component: 'mixer' }, 'master volume');
    this.publishState();
    return this.master.state();
  }

  /** Talks to one station of our lines alone; an id not among them is an error naming `stationId`. */
  talkDirect(stationId: string, on: boolean): DirectState {
    const remote = this.peers.presence(stationId) ?? this.peers.listed(stationId);
    if (!remote) throw Object.assign(new Error(`station "${stationId}" is not on any of this station's lines`), { code: 'invalid', field: 'stationId' });
    const signalling = this.requireSignalling();
    if (this.direct.setTalk({ stationId, name: remote.name }, on)) {
      signalling.send({ type: 'direct', to: stationId, on });
      this.directCallsChanged(on);
      this.pushRouting();
      this.publishState();
    }
    return this.direct.state();
  }

  /** Talks back, directly, to the last station that talked to us directly. */
  reply(on: boolean): DirectState {
    const target = this.direct.replyTarget();
    if (!this.peers.has(target.stationId) && !this.peers.listed(target.stationId)) throw Object.assign(new Error(`${target.name} is no longer on any of this station's lines`), { code: 'failed' });
    return this.talkDirect(target.stationId, on);
  }

  /**
   * Private talk with a station we share only Janus lines with needs a call of its own: made as the talk begins (the
   * lower id offers, as for any call), ended once it has lingered unused (DIRECT_CALL_LINGER_MS).
   */
  private directCallsChanged(began: boolean): void {
    if (began) {
      this.peers.reconsider('private talk');
      return;
    }
    clearTimeout(this.directLinger);
    this.directLinger = setTimeout(() => this.peers.reconsider('private talk ended a while ago; every line we share is on Janus'), DIRECT_CALL_LINGER_MS + 100);
    this.directLinger.unref();
  }

  private onDirect(msg: RelayedDirect): void {
    const remote = this.peers.presence(msg.from) ?? this.peers.listed(msg.from);
    if (!remote) return;
    this.direct.heard({ stationId: msg.from, name: remote.name }, msg.on);
    this.log.child({ component: 'direct' }).info(`${msg.from} ${msg.on ? 'talks to us' : 'stopped talking to us'}`);
    this.directCallsChanged(msg.on);
    this.pushRouting();
    this.publishState();
  }

  /**
   * Joins and leaves lines without leaving the air: the server answers with a fresh `joined`, after which we offer to
   * the stations new to us and drop those we no longer share a line with; every other peer and its audio is untouched.
   */
  setLines(given: LineJoin[]): StationState {
    const signalling = this.requireSignalling();
    const lines = keepSecrets(given, this.config?.lines ?? []);
    const names = lines.map((l) => l.line);
    this.keys.setLines(names);
    this.calls.keepOnly(names);
    for (const line of this.carriers.janusLines()) if (!names.includes(line)) this.leaveJanus(line);
    this.carriers.forget(names);
    if (this.config) this.config = { ...this.config, lines };
    signalling.send({ type: 'lines', lines });
    signalling.setTalking(this.master.talking(this.keys.talking()));
    this.pushRouting();
    this.publishState();
    return this.state();
  }

  private requireSignalling(): SignallingLink {
    if (!this.signalling || this.connection !== 'joined') throw Object.assign(new Error('not on air: connect first'), { code: 'failed' });
    return this.signalling;
  }

  private onCall(msg: RelayedCall): void {
    if (!this.calls.apply(msg)) return;
    if (msg.on && this.master.callTone && msg.from !== this.stationId) this.mediaCall({ op: 'ringCallTone' }, { component: 'call' }, 'call tone');
    this.publish('call', { line: msg.line, from: msg.from, name: msg.name, on: msg.on, ...(msg.reason ? { reason: msg.reason } : {}), ...(msg.by ? { by: msg.by } : {}) });
    this.publishState();
  }

  // ---- connecting ----------------------------------------------------------------------------------

  async connect(config: ConnectConfig): Promise<StationState> {
    await this.disconnect();
    this.config = config;
    this.error = undefined;
    this.stationId = config.stationId ?? stationIdFrom(config.name);
    this.keys.reset(config.lines.map((l) => l.line));
    this.calls.reset();
    this.direct.reset();
    this.carriers.reset();
    this.peers.forgetPresence();
    this.untrusted = false;
    let onAir: ServerOnAir;
    try {
      onAir = await serverOnAir(this.network, config, { dataDir: this.dataDir, tls: this.tlsFiles, log: this.signalLog });
    } catch (error) {
      // A certificate or trust store that cannot be used: nothing is left running.
      await this.disconnect();
      throw error;
    }
    this.onAir = onAir;
    this.hosting = onAir.hosting;
    const { url, verifyServer } = onAir;
    let client: SignallingLink;
    try {
      client = this.network.join({ url, stationId: this.stationId, name: config.name, kind: 'station', lines: config.lines, ...(verifyServer ? { verifyServer } : {}) });
    } catch (error) {
      // A join the protocol refuses must not leave a server running that nobody joined.
      await this.disconnect();
      throw error;
    }
    this.connection = 'connecting';
    this.signalling = client;
    client.on('untrusted', (reason) => {
      this.untrusted = true;
      this.error = `untrusted certificate: ${reason}`;
      this.connection = 'error';
      this.signalLog.error(`refused: ${reason}`);
      this.publish('notice', { level: 'error', message: `signalling: ${reason}` });
      this.publishState();
    });
    client.on('state', (s) => {
      if (s !== 'joined') this.joined = false;
      this.connection = s === 'closed' ? (this.untrusted ? 'error' : 'idle') : s;
      this.signalLog.info(s);
      this.publishState();
    });
    client.on('joined', (msg) => {
      this.signalLog.info(`joined ${msg.lines.join(', ')} with ${msg.peers.length} peer(s)`);
      // Already joined on this connection: the answer to our own lines change, not a rejoin.
      const linesChange = this.joined;
      this.joined = true;
      // The newcomer offers to everyone already there; they wait for our offer.
      this.updatePresence(msg.peers, true, linesChange);
    });
    client.on('presence', (msg) => this.updatePresence(msg.peers, false));
    client.on('call', (msg) => this.onCall(msg));
    client.on('line-carrier', (msg) => this.onLineCarrier(msg));
    client.on('direct', (msg) => this.onDirect(msg));
    client.on('talk', (msg) => {
      if (!this.peers.onTalk(msg.from, msg.lines)) return;
      this.pushRouting();
      this.publishState();
    });
    client.on('offer', (msg) => void this.peers.onOffer(msg.from, msg.sdp));
    client.on('answer', (msg) => this.peers.onAnswer(msg.from, msg.sdp));
    client.on('candidate', (msg) => this.peers.onCandidate(msg.from, msg.candidate ?? null));
    client.on('bye', (msg) => this.peers.onBye(msg.from, msg.to !== undefined));
    client.on('error', (err) => {
      this.error = `${err.code}: ${err.message}`;
      this.signalLog.error(`error ${err.code}${err.field ? ` (${err.field})` : ''}: ${err.message}`);
      this.publish('notice', { level: 'error', message: `signalling: ${err.message}` });
      this.publishState();
    });
    this.publishState();
    return this.state();
  }

  async disconnect(): Promise<StationState> {
    const client = this.signalling;
    if (this.joined) this.peers.hangUpAll();
    this.signalling = undefined;
    this.joined = false;
    this.peers.forgetPresence();
    await client?.close();
    for (const line of this.carriers.janusLines()) this.leaveJanus(line);
    this.carriers.reset();
    await this.peers.dropAll('disconnect');
    await this.onAir?.close();
    this.onAir = undefined;
    this.hosting = null;
    this.connection = 'idle';
    this.publishState();
    return this.state();
  }

  /** A presence list: the calls follow it (control/peer-calls.ts), then routing and the panel. */
  private updatePresence(peers: Presence[], newcomer: boolean, linesChange = false): void {
    this.peers.onPresence(peers, newcomer, linesChange);
    this.pushRouting();
    this.publish('presence', { peers: peers.map(toPresencePeer) });
    this.publishState();
  }

  /**
   * The server moved a line between the mesh and Janus. On Janus: join its room, and drop the calls that carried
   * nothing else. Back on the mesh: leave the room, and call the members we now need a call with; of each pair the
   * lower station id offers, as when a call is repaired (control/recovery.ts), and the other answers.
   */
  private onLineCarrier(msg: LineCarrierMessage): void {
    if (!this.keys.lines().includes(msg.line)) return;
    if (!this.carriers.apply(msg)) return;
    this.log.child({ component: 'line', subject: msg.line }).info(`carried by ${msg.carrier}${msg.janusError ? ` (${msg.janusError})` : ''}`);
    if (msg.janusError) this.publish('notice', { level: 'warn', message: `line ${msg.line}: ${msg.janusError}; the mesh carries it` });
    if (msg.carrier === 'janus' && msg.janus && this.stationId) {
      this.carriers.joiningRoom(msg.line, msg.janus.url);
      this.mediaCall({ op: 'joinJanusLine', line: msg.line, stationId: this.stationId, access: msg.janus }, { component: 'line', subject: msg.line }, 'Janus join failed');
    } else {
      this.leaveJanus(msg.line);
    }
    this.peers.reconsider(`line ${msg.line} moved to Janus`);
    this.pushRouting();
    this.publishState();
  }

  private leaveJanus(line: string): void {
    if (!this.carriers.leaveRoom(line)) return;
    this.mediaCall({ op: 'leaveJanusLine', line }, { component: 'line', subject: line }, 'Janus leave failed');
  }

  /** To signalling, which refuses while it is not joined: what is lost then is set up anew after the rejoin. */
  private sendSignal(msg: ClientMessage): void {
    try {
      this.signalling?.send(msg);
    } catch (e) {
      this.signalLog.warn(`${msg.type} not sent: ${(e as Error).message}`);
    }
  }

  /** A command to the media side whose outcome nobody waits for: a failure goes to the log. */
  private mediaCall(command: Parameters<Media['call']>[0], who: LogBindings, what = 'failed'): void {
    this.media.call(command).catch((e: Error) => this.log.child(who).error(`${what}: ${e.message}`));
  }

  health(): PeerHealth[] {
    return peerHealth(this.latestHealth, (id, viaJanus) => (viaJanus ? (this.peers.listed(id) ?? this.peers.presence(id)) : this.peers.presence(id)));
  }

  /** The speaker's margin and what it covers, as of the latest health report. */
  speakerHealth(): SpeakerHealth | null {
    return this.speaker;
  }

  // ---- publishing ------------------------------------------------------------------------------------

  state(): StationState {
    return {
      connection: this.connection,
      ...(this.error ? { error: this.error } : {}),
      stationId: this.stationId,
      name: this.config?.name ?? null,
      hosting: this.hosting,
      ...(this.config?.server.kind === 'remote' && this.signalling ? { joined: this.joinedServer(this.config.server.url) } : {}),
      lines: this.keys.lines().map((l) => this.lineState(l)),
      devices: this.selection,
      master: this.master.state(),
      direct: this.direct.state(),
    };
  }

  /** The server joined, with the certificate pinned for it when it is a wss:// one. */
  private joinedServer(url: string): NonNullable<StationState['joined']> {
    const fingerprint = url.startsWith('wss:') ? this.network.pinned(new URL(url).host) : undefined;
    return { url, ...(fingerprint ? { fingerprint } : {}) };
  }

  private publish<E extends EventName>(name: E, payload: EventPayload<E>): void {
    this.emit('event', name, payload);
  }

  private publishState(): void {
    this.publish('state', this.state());
  }

  async close(): Promise<void> {
    clearTimeout(this.directLinger);
    await this.network.lan?.stopBrowsing();
    await this.disconnect();
    await this.media.close();
  }
}

function toPresencePeer(p: Presence): PresencePeer {
  return { stationId: p.stationId, name: p.name, kind: p.kind, lines: p.lines, talking: p.talking };
}

/** A station id that survives reconnects: derived from the name, restricted to the protocol's alphabet. */
export function stationIdFrom(name: string): string {
  return slugStationId(name) || `station-${randomIdSuffix()}`;
}
