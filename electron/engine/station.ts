import { EventEmitter } from 'node:events';
import type {
  ConnectConfig,
  DeviceSelection,
  EventName,
  EventPayload,
  LineState,
  PeerHealth,
  PresencePeer,
  StationState,
} from '../common/contract';
import type { Presence } from '../common/signalling-protocol';
import { SignallingClient } from '../signalling/client';
import { SignallingServer, builtGuestDir } from '../signalling/server';
import {
  CaptureStream,
  PlaybackStream,
  BridgeError,
  abandonedStreamCount,
  deviceList,
  locateDevice,
  rescanBlocked,
  scanDevices,
  type AudioDevice,
  type DeviceList,
} from '../../native/bridge';
import { samplesFor } from './audio-format';
import { LevelMeter } from './meter';
import { Mixer, type MixerInput } from './mixer';
import { RemotePeer } from './remote-peer';
import { MdnsResolver } from './mdns-resolver';
import { frameAudioLevel } from './audio-level';
import { RtpPacketizer } from './rtp-packetizer';
import { SenderAdaptation, type EncoderSettings } from './sender-adaptation';
import { VoiceEncoder } from './voice-encoder';

export type FrameMs = 5 | 10 | 20;


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
  /** Chunks queued ahead of the speaker. */
  playbackQueue?: number;
  metersHz?: number;
  healthHz?: number;
  /** Remote says it talks to us but no RTP arrives for this long: the track is reported `no-rtp`. */
  noRtpMs?: number;
  /** A browser guest streams continuously; this long without RTP means its tab is gone. */
  browserGoneMs?: number;
  loopbackCandidates?: boolean;
  log?: (line: string) => void;
}

interface LineKeys {
  talk: boolean;
  listen: boolean;
  volume: number;
}

interface Remote extends MixerInput {
  peer: RemotePeer;
  presence: Presence;
  /** When the remote last started talking to a line we share (for no-RTP detection). */
  talkingSince: number;
  /** Whether its playout was in low latency at the last health tick (changes go to the log). */
  lowLatency: boolean;
}

/** Stable device ids to move to; a field left out keeps its device, null is the system default. */
export type DeviceChoice = { inputId?: string | null; outputId?: string | null };

export type StationEvents = { event: [name: EventName, payload: EventPayload<EventName>] };

/**
 * A station: the microphone goes to every remote that shares a line we talk on; every remote comes out of the
 * speaker at the volume of the loudest line we listen to it on.
 */
export class Station extends EventEmitter<StationEvents> {
  private readonly frameMs: FrameMs;
  private readonly frameSamples: number;
  private readonly opts: Required<Omit<StationOptions, 'log'>>;
  private readonly log: (line: string) => void;
  private readonly mixer = new Mixer();
  private readonly micMeter = new LevelMeter();
  private readonly encoder: VoiceEncoder;
  private readonly adaptation: SenderAdaptation;
  private encoderSettings: EncoderSettings;
  private readonly packetizer = new RtpPacketizer();
  private readonly remotes = new Map<string, Remote>();
  /** Resolves browsers' mDNS candidate names; its socket opens only when the first such name arrives. */
  private readonly mdns = new MdnsResolver();
  private readonly lineKeys = new Map<string, LineKeys>();
  private capture: CaptureStream | undefined;
  private playback: PlaybackStream | undefined;
  private deviceChanges: Promise<unknown> = Promise.resolve();
  private selection: DeviceSelection = { inputId: null, outputId: null, inputState: 'missing', outputState: 'missing' };
  private frame: Int16Array;
  private frameFill = 0;
  private capturedSamples = 0;
  private wasTalking = false;
  private signalling: SignallingClient | undefined;
  private server: SignallingServer | undefined;
  private config: ConnectConfig | undefined;
  private stationId: string | null = null;
  private connection: StationState['connection'] = 'idle';
  private error: string | undefined;
  private hosting: { url: string } | null = null;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(options: StationOptions = {}) {
    super();
    this.opts = {
      frameMs: options.frameMs ?? 10,
      bitrate: options.bitrate ?? 32000,
      application: options.application ?? 'audio',
      chunkMs: options.chunkMs ?? 10,
      playbackQueue: options.playbackQueue ?? 2,
      // 25 Hz so that timer slack never takes the published rate below the 20 Hz a meter needs.
      metersHz: options.metersHz ?? 25,
      healthHz: options.healthHz ?? 2,
      noRtpMs: options.noRtpMs ?? 2000,
      browserGoneMs: options.browserGoneMs ?? 3000,
      loopbackCandidates: options.loopbackCandidates ?? true,
    };
    this.log = options.log ?? (() => undefined);
    this.frameMs = this.opts.frameMs;
    this.frameSamples = samplesFor(this.frameMs);
    this.frame = new Int16Array(this.frameSamples);
    this.adaptation = new SenderAdaptation({ baseBitrate: this.opts.bitrate });
    this.encoderSettings = this.adaptation.settings([], 0);
    this.encoder = new VoiceEncoder({ frameMs: this.frameMs, application: this.opts.application, settings: this.encoderSettings });
    this.timers.push(setInterval(() => this.publishMeters(), 1000 / this.opts.metersHz));
    this.timers.push(setInterval(() => this.watchPeers(), 1000 / this.opts.healthHz));
  }

  // ---- devices -------------------------------------------------------------------------------

  /**
   * The devices present now, including any plugged in while the station runs: from a scan in a child process, since
   * this process's PortAudio keeps the table from when the streams opened (see native/bridge/device-scan.ts).
   */
  async listDevices(): Promise<DeviceList> {
    const present = deviceList(await scanDevices());
    // A scan elsewhere cannot open a device this process holds exclusively (a raw ALSA hw device), and PortAudio
    // leaves out what it cannot open: the picker must not lose the device on air.
    const onAir = (list: AudioDevice[], stream: CaptureStream | PlaybackStream | undefined, state: DeviceSelection['inputState']) =>
      stream && state === 'ok' && !list.some((d) => d.id === stream.device.id) ? [...list, stream.device] : list;
    return {
      ...present,
      inputs: onAir(present.inputs, this.capture, this.selection.inputState),
      outputs: onAir(present.outputs, this.playback, this.selection.outputState),
    };
  }

  /**
   * Opens (or reopens) the sound card. A bad id is a BridgeError naming `inputId`/`outputId`; nothing else changes.
   * Device changes run one at a time, each from the selection the previous one left: a UI that picks the input and
   * then the output sends both at once, and two changes computed from the same old selection would undo each other.
   */
  selectDevices(choice: DeviceChoice): Promise<DeviceSelection> {
    const run = this.deviceChanges.then(() => this.changeDevices(choice));
    this.deviceChanges = run.catch(() => undefined);
    return run;
  }

  private async changeDevices(choice: DeviceChoice): Promise<DeviceSelection> {
    // An unknown id is refused before anything is touched: the devices in use keep playing.
    const inputReach = choice.inputId === undefined ? 'open-now' : await locateDevice(choice.inputId, 'input', 'inputId');
    const outputReach = choice.outputId === undefined ? 'open-now' : await locateDevice(choice.outputId, 'output', 'outputId');
    // A device that arrived after the streams opened is not in this process's PortAudio until PortAudio initializes
    // again, which it does only once nothing holds it: both streams close, and the first to reopen rescans.
    const rescan = inputReach === 'after-rescan' || outputReach === 'after-rescan';
    const fallback = { input: this.capture ? this.selection.inputId : undefined, output: this.playback ? this.selection.outputId : undefined };
    if (rescan) await this.releasePortAudio();
    const next: DeviceSelection = { ...this.selection };
    delete next.error;
    for (const direction of ['input', 'output'] as const) {
      const [field, state] = direction === 'input' ? (['inputId', 'inputState'] as const) : (['outputId', 'outputState'] as const);
      const asked = choice[field];
      if (asked === undefined && this.stream(direction)) continue;
      const id = asked === undefined ? this.selection[field] : asked;
      try {
        await this.reopen(direction, id, fallback[direction]);
        next[field] = id;
        next[state] = 'ok';
      } catch (e) {
        const error = rescan && asked !== undefined && e instanceof BridgeError && e.code === 'unknown-device' && abandonedStreamCount() > 0 ? rescanBlocked(id, field) : (e as Error);
        next.error = error.message;
        this.log(`[audio] ${direction} device: ${next.error}`);
        // The direction nobody asked to change was closed only for the rescan; its device going meanwhile must not
        // cost the change that was asked for.
        if (rescan && asked === undefined) {
          next[state] = 'missing';
          continue;
        }
        if (!this.capture) next.inputState = 'error';
        if (!this.playback) next.outputState = 'error';
        this.applySelection(next);
        throw error;
      }
    }
    this.applySelection(next);
    return this.devices();
  }

  /** Both streams let go of PortAudio (its initialization is reference-counted), so that the next open enumerates anew. */
  private async releasePortAudio(): Promise<void> {
    await Promise.all([this.capture?.stop(), this.playback?.stop()]);
    this.capture = undefined;
    this.playback = undefined;
  }

  private stream(direction: 'input' | 'output'): CaptureStream | PlaybackStream | undefined {
    return direction === 'input' ? this.capture : this.playback;
  }

  /**
   * Moves a stream to device `id`. The old stream lets go of its device first (the same card may be reopened); if
   * the new one cannot open, the `fallback` device (the one on air before, if any) is reopened so the station stays on
   * air, and the error goes on.
   */
  private async reopen(direction: 'input' | 'output', id: string | null, fallback: string | null | undefined): Promise<void> {
    const open = (deviceId: string | null) => {
      if (direction === 'input') this.capture = this.openCapture(deviceId);
      else this.playback = this.openPlayback(deviceId);
    };
    await this.stream(direction)?.stop();
    if (direction === 'input') this.capture = undefined;
    else this.playback = undefined;
    try {
      open(id);
    } catch (e) {
      if (fallback !== undefined) {
        try {
          open(fallback);
        } catch {
          /* the previous device is gone as well: the selection reports the error */
        }
      }
      throw e;
    }
  }

  private openCapture(id: string | null): CaptureStream {
    const stream = new CaptureStream({ deviceId: id, chunkMs: this.opts.chunkMs, onChunk: (pcm) => this.onMicrophone(pcm) });
    stream.on('error', (e) => this.deviceLost('input', e));
    return stream;
  }

  private openPlayback(id: string | null): PlaybackStream {
    const stream = new PlaybackStream({ deviceId: id, chunkMs: this.opts.chunkMs, queueChunks: this.opts.playbackQueue, source: this.mixer });
    stream.on('error', (e) => this.deviceLost('output', e));
    return stream;
  }

  private applySelection(selection: DeviceSelection): void {
    this.selection = selection;
    this.publish('devices', { selection: this.devices() });
    this.publishState();
  }

  /** The selection, with the xrun counters of the streams open now. */
  private devices(): DeviceSelection {
    return {
      ...this.selection,
      ...(this.capture ? { inputOverruns: this.capture.counters.overruns } : {}),
      ...(this.playback ? { outputUnderruns: this.playback.counters.underruns } : {}),
    };
  }

  private deviceLost(direction: 'input' | 'output', error: BridgeError): void {
    this.log(`[audio] ${error.message}`);
    const next = { ...this.selection, error: error.message };
    if (direction === 'input') next.inputState = 'missing';
    else next.outputState = 'missing';
    this.applySelection(next);
    this.publish('notice', { level: 'error', message: error.message });
  }

  setTestTone(on: boolean, frequencyHz?: number, levelDb?: number): { on: boolean } {
    this.mixer.setTestTone(on, frequencyHz, levelDb);
    return { on };
  }

  // ---- the microphone path ---------------------------------------------------------------------

  private onMicrophone(pcm: Int16Array): void {
    this.micMeter.feed(pcm);
    let offset = 0;
    while (offset < pcm.length) {
      const n = Math.min(pcm.length - offset, this.frameSamples - this.frameFill);
      this.frame.set(pcm.subarray(offset, offset + n), this.frameFill);
      this.frameFill += n;
      offset += n;
      if (this.frameFill === this.frameSamples) {
        this.sendFrame(this.frame, this.capturedSamples);
        this.capturedSamples += this.frameSamples;
        this.frameFill = 0;
      }
    }
  }

  private talkingLines(): string[] {
    return [...this.lineKeys].filter(([, k]) => k.talk).map(([line]) => line);
  }

  private sendFrame(frame: Int16Array, capturedSamples: number): void {
    const talking = this.talkingLines();
    const targets = [...this.remotes.values()].filter((r) => r.presence.lines.some((l) => talking.includes(l)));
    if (talking.length === 0 || targets.length === 0) {
      if (this.wasTalking) this.packetizer.endSpurt();
      this.wasTalking = false;
      return;
    }
    this.wasTalking = true;
    const rtp = this.packetizer.packetize(this.encoder.encode(frame), capturedSamples);
    const level = frameAudioLevel(frame);
    for (const r of targets) r.peer.send(rtp, level);
  }

  // ---- lines -------------------------------------------------------------------------------------

  private keys(line: string): LineKeys {
    const k = this.lineKeys.get(line);
    if (!k) throw Object.assign(new Error(`line "${line}" is not joined by this station`), { code: 'invalid', field: 'line' });
    return k;
  }

  setTalk(line: string, on: boolean): LineState {
    this.keys(line).talk = on;
    this.signalling?.setTalking(this.talkingLines());
    this.publishState();
    return this.lineState(line);
  }

  setListen(line: string, on: boolean): LineState {
    this.keys(line).listen = on;
    this.publishState();
    return this.lineState(line);
  }

  setVolume(line: string, volume: number): LineState {
    this.keys(line).volume = volume;
    this.publishState();
    return this.lineState(line);
  }

  private gainFor(presence: Presence): number {
    let gain = 0;
    for (const line of presence.talking) {
      const k = this.lineKeys.get(line);
      if (k?.listen && k.volume > gain) gain = k.volume;
    }
    return gain;
  }

  private lineState(line: string): LineState {
    const k = this.keys(line);
    const talkers = [...this.remotes.values()]
      .filter((r) => r.presence.talking.includes(line))
      .map((r) => ({ stationId: r.presence.stationId, name: r.presence.name }));
    return { line, talk: k.talk, listen: k.listen, volume: k.volume, talkers };
  }

  // ---- connecting ----------------------------------------------------------------------------------

  async connect(config: ConnectConfig): Promise<StationState> {
    await this.disconnect();
    this.config = config;
    this.error = undefined;
    this.stationId = config.stationId ?? stationIdFrom(config.name);
    this.lineKeys.clear();
    for (const l of config.lines) this.lineKeys.set(l.line, { talk: false, listen: true, volume: 1 });
    let url: string;
    if (config.server.kind === 'host') {
      const secrets = Object.fromEntries(config.lines.filter((l) => l.secret).map((l) => [l.line, l.secret as string]));
      // A hosting station serves the browser guest page on its signalling port.
      this.server = new SignallingServer({ port: config.server.port, host: config.server.bind ?? '127.0.0.1', lines: secrets, staticDir: builtGuestDir() });
      const started = await this.server.start();
      url = started.url;
      this.hosting = { url };
      this.log(`[signal] hosting ${url}`);
    } else {
      url = config.server.url;
    }
    this.connection = 'connecting';
    const client = new SignallingClient({ url, stationId: this.stationId, name: config.name, kind: 'station', lines: config.lines });
    this.signalling = client;
    client.on('state', (s) => {
      this.connection = s === 'closed' ? 'idle' : s;
      this.log(`[signal] ${s}`);
      this.publishState();
    });
    client.on('joined', (msg) => {
      this.log(`[signal] joined ${msg.lines.join(', ')} with ${msg.peers.length} peer(s)`);
      // The newcomer offers to everyone already there; they wait for our offer.
      this.updatePresence(msg.peers, true);
    });
    client.on('presence', (msg) => this.updatePresence(msg.peers, false));
    client.on('talk', (msg) => {
      const r = this.remotes.get(msg.from);
      if (!r) return;
      const wasTalkingToUs = r.presence.talking.length > 0;
      r.presence = { ...r.presence, talking: msg.lines };
      if (!wasTalkingToUs && msg.lines.length > 0) r.talkingSince = performance.now();
      this.publishState();
    });
    client.on('offer', (msg) => void this.onOffer(msg.from, msg.sdp));
    client.on('answer', (msg) => void this.remotes.get(msg.from)?.peer.acceptAnswer(msg.sdp).catch((e: Error) => this.log(`[peer ${msg.from}] bad answer: ${e.message}`)));
    client.on('candidate', (msg) => void this.remotes.get(msg.from)?.peer.addCandidate(msg.candidate ?? null).catch((e: Error) => this.log(`[peer ${msg.from}] bad candidate: ${e.message}`)));
    client.on('bye', (msg) => void this.dropRemote(msg.from, 'bye'));
    client.on('error', (err) => {
      this.error = `${err.code}: ${err.message}`;
      this.log(`[signal] error ${err.code}${err.field ? ` (${err.field})` : ''}: ${err.message}`);
      this.publish('notice', { level: 'error', message: `signalling: ${err.message}` });
      this.publishState();
    });
    this.publishState();
    return this.state();
  }

  async disconnect(): Promise<StationState> {
    const client = this.signalling;
    this.signalling = undefined;
    await client?.close();
    for (const id of [...this.remotes.keys()]) await this.dropRemote(id, 'disconnect');
    await this.server?.close();
    this.server = undefined;
    this.hosting = null;
    this.connection = 'idle';
    this.publishState();
    return this.state();
  }

  private updatePresence(peers: Presence[], offerToNew: boolean): void {
    const seen = new Set<string>();
    for (const p of peers) {
      seen.add(p.stationId);
      const existing = this.remotes.get(p.stationId);
      if (existing) {
        if (existing.presence.talking.length === 0 && p.talking.length > 0) existing.talkingSince = performance.now();
        existing.presence = p;
        continue;
      }
      const remote = this.addRemote(p);
      if (offerToNew) void remote.peer.offer().catch((e: Error) => this.log(`[peer ${p.stationId}] offer failed: ${e.message}`));
    }
    for (const id of [...this.remotes.keys()]) if (!seen.has(id)) void this.dropRemote(id, 'left');
    this.publish('presence', { peers: peers.map(toPresencePeer) });
    this.publishState();
  }

  private addRemote(presence: Presence): Remote {
    const peer = new RemotePeer({
      stationId: presence.stationId,
      iceServers: this.config?.iceServers ?? [],
      frameMs: this.frameMs,
      loopbackCandidates: this.opts.loopbackCandidates,
      resolveMdns: (host) => this.mdns.resolve(host),
    });
    const to = presence.stationId;
    peer.on('description', (type, sdp) => this.signalling?.send({ type, to, sdp }));
    peer.on('candidate', (candidate) => this.signalling?.send({ type: 'candidate', to, candidate }));
    peer.on('connection', (state) => this.log(`[peer ${to}] ${state}`));
    peer.on('firstRtp', () => this.log(`[peer ${to}] first RTP`));
    peer.on('mdnsResolved', (host, address) => this.log(`[peer ${to}] mDNS candidate ${host} is ${address}`));
    peer.on('mdnsUnresolved', (host, reason) => {
      this.log(`[peer ${to}] mDNS candidate ${host} unresolved: ${reason}`);
      this.publish('notice', { level: 'warn', message: `${to}: its browser hides its address behind ${host}, which did not resolve (${reason}); without another way through, it cannot connect` });
    });
    peer.on('receiverReport', (fractionLost) => this.adaptation.report(to, fractionLost, performance.now()));
    const remote: Remote = {
      peer,
      presence,
      talkingSince: presence.talking.length ? performance.now() : 0,
      lowLatency: false,
      meter: peer.meter,
      pull: (samples, now) => peer.playout.pull(samples, now),
      gain: () => this.gainFor(remote.presence),
    };
    this.remotes.set(to, remote);
    this.mixer.inputs.add(remote);
    return remote;
  }

  private async onOffer(from: string, sdp: string): Promise<void> {
    let remote = this.remotes.get(from);
    // A fresh offer from a peer we already negotiated with means it restarted: start over with it.
    if (remote && remote.peer.signalingState !== 'stable' && remote.peer.signalingState !== 'closed') {
      // Glare: both offered. The lower id keeps its offer; the higher one yields.
      if ((this.stationId ?? '') < from) return;
    }
    if (remote && remote.peer.signalingState === 'stable' && remote.peer.connection !== 'new') {
      const presence = remote.presence;
      await this.dropRemote(from, 'renegotiate', false);
      remote = this.addRemote(presence);
    } else if (remote && remote.peer.signalingState !== 'stable') {
      const presence = remote.presence;
      await this.dropRemote(from, 'glare', false);
      remote = this.addRemote(presence);
    }
    if (!remote) {
      remote = this.addRemote({ stationId: from, name: from, kind: 'browser', lines: [], talking: [] });
    }
    await remote.peer.acceptOffer(sdp).catch((e: Error) => {
      this.log(`[peer ${from}] bad offer: ${e.message}`);
      this.publish('notice', { level: 'warn', message: `${from}: could not accept its offer (${e.message})` });
    });
  }

  private async dropRemote(id: string, why: string, announce = true): Promise<void> {
    const r = this.remotes.get(id);
    if (!r) return;
    this.remotes.delete(id);
    this.mixer.inputs.delete(r);
    this.adaptation.forget(id);
    this.log(`[peer ${id}] closed (${why})`);
    await r.peer.close();
    if (announce) this.publishState();
  }

  /** werift never reports `disconnected`: RTP inactivity is our evidence. */
  private watchPeers(): void {
    const now = performance.now();
    for (const [id, r] of this.remotes) {
      const p = r.peer;
      if (p.connection !== 'connected' && p.connection !== 'no-rtp') continue;
      if (r.presence.kind === 'browser' && p.lastRtpAt > 0 && now - p.lastRtpAt > this.opts.browserGoneMs) {
        void this.dropRemote(id, `no RTP for ${Math.round(now - p.lastRtpAt)} ms`);
        continue;
      }
      // A browser guest streams from the moment it connects (its talk key only mutes the track); a station streams
      // while it talks to us.
      const expecting =
        r.presence.kind === 'browser'
          ? now - p.connectedAt > this.opts.noRtpMs
          : r.presence.talking.length > 0 && now - r.talkingSince > this.opts.noRtpMs;
      if (expecting && now - p.lastRtpAt > this.opts.noRtpMs) p.markNoRtp();
      else if (p.connection === 'no-rtp' && now - p.lastRtpAt < this.opts.noRtpMs) p.markRtpFlowing();
    }
    this.adaptEncoder(now);
    this.reportXruns();
    this.reportPlayoutModes();
    this.publish('health', { peers: this.health() });
  }

  private xrunsReported = { underruns: 0, overruns: 0 };

  /** Each new dropout of the devices goes to the log as it happens: an operator (or a failing test) can place it. */
  private reportXruns(): void {
    const underruns = this.playback?.counters.underruns ?? 0;
    const overruns = this.capture?.counters.overruns ?? 0;
    // A new stream counts from zero again.
    const seen = { underruns: Math.min(this.xrunsReported.underruns, underruns), overruns: Math.min(this.xrunsReported.overruns, overruns) };
    const waited = this.playback?.takeLongestTickWaitMs() ?? 0;
    if (underruns > seen.underruns) {
      const inDevice = this.playback?.counters.deviceUnderflows ?? 0;
      this.log(`[audio] speaker underran ${underruns - seen.underruns} time(s) (${underruns} since it opened, ${inDevice} of them in the device itself; meanwhile a tick waited up to ${waited.toFixed(1)} ms for the event loop)`);
    }
    if (overruns > seen.overruns) this.log(`[audio] microphone overran ${overruns - seen.overruns} time(s) (${overruns} since it opened)`);
    this.xrunsReported = { underruns, overruns };
  }

  /** A frame less or more of delay is something an operator may hear and a latency figure must explain. */
  private reportPlayoutModes(): void {
    for (const r of this.remotes.values()) {
      const s = r.peer.playout.stats();
      if (s.lowLatency === r.lowLatency) continue;
      r.lowLatency = s.lowLatency;
      const slack = Number.isNaN(s.arrivalSlackMs) ? 'no packet landed before the latest pull' : `packets land ${s.arrivalSlackMs.toFixed(1)} ms before the pull`;
      this.log(`[playout] ${r.presence.name}: ${s.lowLatency ? 'low latency, each packet plays at the next pull' : 'a frame held back'} (${slack}; target ${s.targetDelayMs.toFixed(1)} ms)`);
    }
  }

  /** One encoder serves every remote we talk to: it protects against the loss of the worst of them. */
  private adaptEncoder(now: number): void {
    const talking = this.talkingLines();
    const targets = [...this.remotes.values()].filter((r) => r.presence.lines.some((l) => talking.includes(l))).map((r) => r.presence.stationId);
    const next = this.adaptation.settings(targets, now);
    const current = this.encoderSettings;
    if (next.bitrate === current.bitrate && next.fec === current.fec && next.packetLossPercent === current.packetLossPercent) return;
    this.encoder.apply(next);
    this.encoderSettings = next;
    this.log(`[send] ${next.bitrate} bps, FEC ${next.fec ? `on for ${next.packetLossPercent} % loss` : 'off'}, Opus ${this.encoder.application}`);
  }

  health(): PeerHealth[] {
    const now = performance.now();
    return [...this.remotes.values()].map((r) => {
      const s = r.peer.playout.stats();
      return {
        stationId: r.presence.stationId,
        name: r.presence.name,
        connection: r.peer.connection,
        rttMs: r.peer.rttMs,
        jitterMs: s.jitterMs,
        lossRate: s.lossRate,
        playoutDelayMs: s.currentDelayMs,
        targetDelayMs: s.targetDelayMs,
        lowLatency: s.lowLatency,
        concealedFrames: s.concealedFrames,
        stretchedFrames: s.stretchedFrames,
        fecRecoveredFrames: s.fecRecoveredFrames,
        remoteLossRate: this.adaptation.reportedLoss(r.presence.stationId, now),
        ...(r.peer.speech.reporting(now) ? { speaking: r.peer.speech.speaking(now), levelDbov: r.peer.speech.readPeakDbov() } : {}),
      };
    });
  }

  // ---- publishing ------------------------------------------------------------------------------------

  state(): StationState {
    return {
      connection: this.connection,
      ...(this.error ? { error: this.error } : {}),
      stationId: this.stationId,
      name: this.config?.name ?? null,
      hosting: this.hosting,
      lines: [...this.lineKeys.keys()].map((l) => this.lineState(l)),
      devices: this.devices(),
    };
  }

  private publish<E extends EventName>(name: E, payload: EventPayload<E>): void {
    this.emit('event', name, payload);
  }

  private publishState(): void {
    this.publish('state', this.state());
  }

  private publishMeters(): void {
    const peers: Record<string, { peakDb: number; rmsDb: number }> = {};
    for (const [id, r] of this.remotes) peers[id] = r.meter.read();
    this.publish('meters', { t: Date.now(), input: this.micMeter.read(), output: this.mixer.output.read(), peers });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.disconnect();
    const [c, p] = [this.capture, this.playback];
    this.capture = undefined;
    this.playback = undefined;
    await Promise.all([c?.stop(), p?.stop(), this.mdns.close()]);
  }
}

function toPresencePeer(p: Presence): PresencePeer {
  return { stationId: p.stationId, name: p.name, kind: p.kind, lines: p.lines, talking: p.talking };
}

/** A station id that survives reconnects: derived from the name, restricted to the protocol's alphabet. */
export function stationIdFrom(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48);
  return slug || `station-${Math.random().toString(36).slice(2, 8)}`;
}
