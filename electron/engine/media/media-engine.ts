import type { DeviceSelection, IceServer } from '../../common/contract';
import { recordLog, type Log } from '../../common/log';
import {
  CaptureStream,
  PlaybackStream,
  BridgeError,
  abandonedStreamCount,
  locateDevice,
  raiseOtherThreads,
  rescanBlocked,
  AUDIO_NICE,
} from '../../../native/bridge';
import { MEDIA_PRIORITY, NETWORK_PRIORITY, RealtimeKit, currentThreadId, describeGrant, guardJavaScriptThread, ordinaryDirect, realtimeDemotions, realtimeDirect, type Grant } from '../../../native/bridge/realtime';
import { BurstStepDown } from './burst-step-down';
import { samplesFor } from '../audio-format';
import { LevelMeter } from '../meter';
import { Mixer, type LineBus, type MixerInput } from '../mixer';
import { RemotePeer } from '../remote-peer';
import { NetworkThread } from '../network/network-thread';
import { frameAudioLevel } from '../audio-level';
import { RtpPacketizer } from '../rtp-packetizer';
import { SenderAdaptation, type EncoderSettings } from '../sender-adaptation';
import { VoiceEncoder } from '../voice-encoder';
import { DeviceRetry, type Direction } from './device-retry';
import { ConcealTrace } from './conceal-trace';
import { ConcealmentReport } from './concealment-report';
import { JanusCarriedLines } from '../janus/janus-carried-lines';
import type {
  DeviceChoice,
  Media,
  MediaCommand,
  MediaEvent,
  MediaOptions,
  MediaResult,
  OnAirDevices,
  PeerMediaHealth,
  LineMix,
  Routing,
  SpeakerHealth,
} from './media-protocol';

/**
 * A peer's ICE and DTLS set-up or tear-down, a known busy moment of the machine (its key generation runs on the
 * network thread, and on a machine of two cores competes with this one): how long it lasts, and the drain to cover.
 */
const PEER_SETUP_MS = 3000;
const PEER_SETUP_DRAIN_MS = 40;
/** How long after its last set-up connects the network thread stays off real time: the first SRTP and RTCP. */
const SETUP_TAIL_MS = 300;
/** A microphone silent for this long between two chunks is logged: what it held back costs the listeners a gap. */
const MIC_GAP_LOG_MS = 30;

interface Remote extends MixerInput {
  id: string;
  peer: RemotePeer;
  /** Whether its playout was in low latency at the last health tick (changes go to the log). */
  lowLatency: boolean;
}

/**
 * A station's media: the microphone to every remote the control side routes it to, every remote out of the speaker
 * at the gain the control side gives it. It runs on its own thread (media-worker.ts), so that nothing the devices
 * need waits on the thread that runs signalling, the UI's IPC or the app; it knows nothing of lines or signalling.
 */
export class MediaEngine implements Media {
  private readonly mixer = new Mixer();
  private readonly concealment = new ConcealmentReport();
  private readonly micMeter = new LevelMeter();
  private readonly encoder: VoiceEncoder;
  private readonly adaptation: SenderAdaptation;
  private encoderSettings: EncoderSettings;
  private readonly packetizer = new RtpPacketizer();
  private readonly remotes = new Map<string, Remote>();
  /** werift, Janus and mDNS: their own thread, so that a handshake or their garbage never holds this one up. */
  private readonly network = new NetworkThread((record) => this.emit({ type: 'log', record }));
  private readonly listeners: ((event: MediaEvent) => void)[] = [];
  /** Its records go out as events, for the control side to log (the media side may run in a worker). */
  private readonly log: Log = recordLog((record) => this.emit({ type: 'log', record }));
  private readonly audioLog = this.log.child({ component: 'audio' });
  private routing: Routing = { sendTo: [], gains: {} };
  /** One metered bus per joined line, by line name. */
  private readonly lineBuses = new Map<string, LineBus & { gains: Record<string, number> }>();
  private capture: CaptureStream | undefined;
  private playback: PlaybackStream | undefined;
  private deviceChanges: Promise<unknown> = Promise.resolve();
  /** Devices lost while on air, tried again until they (or someone's new choice) are on air. */
  private readonly retry = new DeviceRetry();
  private retryTimer: NodeJS.Timeout | undefined;
  private selection: DeviceSelection = { inputId: null, outputId: null, inputState: 'missing', outputState: 'missing' };
  private frame: Int16Array;
  private frameFill = 0;
  /** Encoder settings waiting for the frame in progress to end: a frame is coded whole, at one size. */
  private pendingSettings: EncoderSettings | undefined;
  private capturedSamples = 0;
  private wasTalking = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private realtimeKit: Promise<RealtimeKit> | undefined;
  private networkPriority: BurstStepDown | undefined;
  private devicesRunning = false;
  /** Device threads already put to rtkit, so each is asked once. */
  private readonly promoted = new Set<number>();
  /** Lines whose media goes through Janus instead of a peer per member. */
  private readonly janus: JanusCarriedLines;

  constructor(private readonly opts: MediaOptions) {
    // Room for the longest frame the encoder may switch to (see VoiceEncoder).
    this.frame = new Int16Array(samplesFor(Math.max(opts.frameMs, 10)));
    this.adaptation = new SenderAdaptation({ baseBitrate: opts.bitrate });
    this.encoderSettings = this.adaptation.settings([], 0);
    this.encoder = new VoiceEncoder({ frameMs: opts.frameMs, application: opts.application, settings: this.encoderSettings });
    this.janus = new JanusCarriedLines({
      mixer: this.mixer,
      gain: (id) => this.routing.gains[id] ?? 0,
      emit: (e) => {
        if (e.type === 'janus' && e.state !== 'connecting') this.setupEnds(`janus:${e.line}`);
        this.emit(e);
      },
      log: this.log,
      network: this.network,
      frameMs: opts.frameMs,
      loopbackCandidates: opts.loopbackCandidates,
    });
    this.timers.push(setInterval(() => this.publishMeters(), 1000 / opts.metersHz));
    this.timers.push(setInterval(() => this.watch(), 1000 / opts.healthHz));
    if (opts.realtime) {
      const kit = (this.realtimeKit = RealtimeKit.connect());
      void this.network.threadId.then((tid) => {
        if (!(tid > 0)) return;
        this.networkPriority = new BurstStepDown(
          {
            promote: () => this.promoteJavaScriptThread('network', tid, NETWORK_PRIORITY, kit),
            demote: () => {
              const refused = ordinaryDirect(tid);
              this.audioLog.info(refused ? `network thread ${tid}: stays real-time through a peer's set-up (${refused})` : `network thread ${tid}: its nice value while peers are set up`);
              return refused === undefined;
            },
          },
          () => performance.now(),
        );
        if (this.devicesRunning) this.networkPriority.start();
      });
    }
  }

  /**
   * Once a device runs, the media thread gets real time, and the network thread from then on except during set-ups.
   * Not before: a thread starting up (compiling, loading bindings, opening devices) at SCHED_RR holds a core from
   * every thread at a nice value, the sound server's among them, and the streams of stations already on air run dry.
   */
  private devicesStarted(kit: Promise<RealtimeKit>): void {
    if (this.devicesRunning) return;
    this.devicesRunning = true;
    void this.promoteJavaScriptThread('media', currentThreadId(), MEDIA_PRIORITY, kit);
    this.networkPriority?.start();
  }

  /**
   * A peer or a Janus line (`key`) is being set up: the speaker's queue covers the moment, and the network thread, which
   * runs its ICE and DTLS in JavaScript, steps down from real time until it has connected (BurstStepDown).
   */
  private setupBegins(key: string): void {
    this.playback?.expectBusy(PEER_SETUP_DRAIN_MS, PEER_SETUP_MS);
    this.networkPriority?.begin(key, PEER_SETUP_MS);
  }

  private setupEnds(key: string): void {
    this.networkPriority?.end(key, SETUP_TAIL_MS);
  }

  /**
   * The media thread gets SCHED_RR below the device threads, and the network thread below it, each guarded (see
   * native/bridge/realtime): set directly where allowed, else from rtkit; where neither, the raised nice value it was
   * started with, or one from rtkit.
   */
  private async promoteJavaScriptThread(thread: string, tid: number, priority: number, kit: Promise<RealtimeKit>): Promise<boolean> {
    let guarded = false;
    let unguarded = 'no guard against a long-running real-time thread here';
    try {
      guarded = guardJavaScriptThread(tid);
    } catch (e) {
      unguarded = (e as Error).message;
    }
    const direct: Grant = guarded ? realtimeDirect(thread, tid, priority) : { thread, tid, refused: unguarded };
    if ('granted' in direct) {
      // Logged once the kit has answered: by then the engine's log reaches its listeners. Answered at once all the
      // same: a set-up announced meanwhile steps the thread down only once its promotion is known (BurstStepDown).
      void kit.then(() => this.audioLog.info(describeGrant(direct)));
      return true;
    }
    const k = await kit;
    if (k.why) {
      this.audioLog.info(`${describeGrant(direct)}; rtkit not available (${k.why}): real-time scheduling only where this process may set it itself, and the speaker margin covers the scheduler otherwise`);
      return false;
    }
    const granted = guarded ? await k.realtime(thread, tid, priority) : direct;
    this.audioLog.info(describeGrant('granted' in granted ? granted : await k.highPriority(thread, tid)));
    return 'granted' in granted;
  }

  /** Each device thread, once it has called back, gets SCHED_RR: set directly where allowed, else from rtkit. */
  private promoteDeviceThreads(): void {
    const kit = this.realtimeKit;
    if (!kit) return;
    let opened = false;
    for (const [name, stream] of [['microphone', this.capture], ['speaker', this.playback]] as const) {
      const tid = stream?.deviceThreadId ?? 0;
      if (tid <= 0 || this.promoted.has(tid)) continue;
      this.promoted.add(tid);
      opened = true;
      const direct = realtimeDirect(name, tid);
      if ('granted' in direct) {
        this.audioLog.info(describeGrant(direct));
        continue;
      }
      void kit.then(async (k) => {
        this.audioLog.info(k.why ? `${describeGrant(direct)}; rtkit: ${k.why}` : describeGrant(await k.realtime(name, tid)));
      });
    }
    // The threads a device opened from this thread while it was real-time (a reopen) started at nice 0: its host's
    // own, such as ALSA's pulse plugin's client threads, get the raised nice value the station runs its audio at.
    if (opened) {
      raiseOtherThreads(AUDIO_NICE);
      this.devicesStarted(kit);
    }
  }

  onEvent(listener: (event: MediaEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(event: MediaEvent): void {
    for (const l of this.listeners) l(event);
  }

  private peerLog(id: string): Log {
    return this.log.child({ component: 'peer', subject: id });
  }

  async call<C extends MediaCommand>(command: C): Promise<MediaResult<C['op']>> {
    return (await this.handle(command)) as MediaResult<C['op']>;
  }

  private async handle(c: MediaCommand): Promise<unknown> {
    switch (c.op) {
      case 'selectDevices':
        return this.selectDevices(c.choice);
      case 'onAirDevices':
        return this.onAirDevices();
      case 'setTestTone':
        this.mixer.setTestTone(c.on, c.frequencyHz, c.levelDb);
        return { on: c.on };
      case 'ringCallTone':
        this.mixer.ringCallTone();
        return undefined;
      case 'addPeer':
        this.addPeer(c.id, c.iceServers);
        return undefined;
      case 'dropPeer':
        return this.dropPeer(c.id, c.why);
      case 'offer':
        return this.peer(c.id)?.offer();
      case 'acceptOffer':
        return this.peer(c.id)?.acceptOffer(c.sdp);
      case 'acceptAnswer':
        return this.peer(c.id)?.acceptAnswer(c.sdp);
      case 'addCandidate':
        return this.peer(c.id)?.addCandidate(c.candidate);
      case 'setRouting':
        this.routing = c.routing;
        return undefined;
      case 'setLineMix':
        this.setLineMix(c.lines);
        return undefined;
      case 'setMasterVolume':
        this.mixer.masterGain = c.volume;
        return undefined;
      case 'markRtp': {
        const p = this.peer(c.id);
        if (c.flowing) p?.markRtpFlowing();
        else p?.markNoRtp();
        return undefined;
      }
      case 'joinJanusLine':
        this.setupBegins(`janus:${c.line}`);
        return this.janus.join(c.line, c.stationId, c.access);
      case 'leaveJanusLine':
        return this.janus.leave(c.line);
      case 'close':
        return this.close();
    }
  }

  /** Lines keep their meter across changes of who talks there; a line left goes. */
  private setLineMix(lines: LineMix): void {
    // Joining or leaving a line sets peers up or tears them down, here and at every station on it, on a machine
    // that may be carrying several: cover the moment ahead, as for a peer's own set-up.
    const names = Object.keys(lines);
    if (names.length !== this.lineBuses.size || names.some((line) => !this.lineBuses.has(line))) this.playback?.expectBusy(PEER_SETUP_DRAIN_MS, PEER_SETUP_MS);
    for (const [line, bus] of this.lineBuses) {
      if (lines[line]) continue;
      this.lineBuses.delete(line);
      this.mixer.buses.delete(bus);
    }
    for (const [line, gains] of Object.entries(lines)) {
      const bus = this.lineBuses.get(line);
      if (bus) {
        bus.gains = gains;
        continue;
      }
      const created: LineBus & { gains: Record<string, number> } = {
        gains,
        meter: new LevelMeter(),
        gain: (input) => created.gains[(input as Remote).id] ?? 0,
      };
      this.lineBuses.set(line, created);
      this.mixer.buses.add(created);
    }
  }

  private peer(id: string): RemotePeer | undefined {
    return this.remotes.get(id)?.peer;
  }

  // ---- devices -------------------------------------------------------------------------------

  /**
   * The devices the open streams play on. Listing what is present is the control side's job: it scans in a child
   * process, and spawning one would hold this thread for tens of ms.
   */
  onAirDevices(): OnAirDevices {
    // A stream whose device went is dropped at once (deviceLost): what is open is on air, a fallback included.
    const onAir = (stream: CaptureStream | PlaybackStream | undefined) => (stream ? [stream.device] : []);
    return { inputs: onAir(this.capture), outputs: onAir(this.playback) };
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
    let inputReach, outputReach;
    try {
      inputReach = choice.inputId === undefined ? 'open-now' : await locateDevice(choice.inputId, 'input', 'inputId');
      outputReach = choice.outputId === undefined ? 'open-now' : await locateDevice(choice.outputId, 'output', 'outputId');
    } catch (e) {
      // No device at all while none is open: the selection says so, for the UI to show until one appears.
      if (e instanceof BridgeError && e.code === 'no-device') this.noDevice(e);
      throw e;
    }
    // A device that arrived after the streams opened is not in this process's PortAudio until PortAudio initializes
    // again, which it does only once nothing holds it: both streams close, and the first to reopen rescans.
    const rescan = inputReach === 'after-rescan' || outputReach === 'after-rescan';
    // What is on air now, which may be the system default standing in for a lost choice.
    const onAir = (direction: Direction) => (!this.stream(direction) ? undefined : this.selection[fallbackField(direction)] ? null : this.selection[direction === 'input' ? 'inputId' : 'outputId']);
    const fallback = { input: onAir('input'), output: onAir('output') };
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
        delete next[fallbackField(direction)];
        this.retry.settled(direction);
      } catch (e) {
        const error = rescan && asked !== undefined && e instanceof BridgeError && e.code === 'unknown-device' && abandonedStreamCount() > 0 ? rescanBlocked(id, field) : (e as Error);
        next.error = error.message;
        this.audioLog.error(`${direction} device: ${next.error}`);
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

  private noDevice(error: BridgeError): void {
    const next: DeviceSelection = { ...this.selection, error: error.message };
    if (!this.capture) next.inputState = 'error';
    if (!this.playback) next.outputState = 'error';
    this.audioLog.error(`${error.message}`);
    this.applySelection(next);
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
    stream.on('error', (e) => this.deviceLost('input', stream, e));
    return stream;
  }

  private openPlayback(id: string | null): PlaybackStream {
    const stream = new PlaybackStream({ deviceId: id, chunkMs: this.opts.chunkMs, queueChunks: this.opts.playbackQueue, source: this.mixer });
    stream.on('error', (e) => this.deviceLost('output', stream, e));
    return stream;
  }

  private open(direction: Direction, id: string | null): CaptureStream | PlaybackStream {
    return direction === 'input' ? (this.capture = this.openCapture(id)) : (this.playback = this.openPlayback(id));
  }

  private applySelection(selection: DeviceSelection): void {
    this.selection = selection;
    this.emit({ type: 'devices', selection: this.devices() });
  }

  /** The selection, with the xrun counters of the streams open now. */
  private devices(): DeviceSelection {
    return {
      ...this.selection,
      ...(this.capture ? { inputOverruns: this.capture.counters.overruns } : {}),
      ...(this.playback ? { outputUnderruns: this.playback.counters.underruns } : {}),
    };
  }

  /**
   * A stream's device went. The state says so at once; the dead stream is let go of, and the chosen device is tried
   * again, with the system default on air meanwhile (see recoverDevice).
   */
  private deviceLost(direction: Direction, stream: CaptureStream | PlaybackStream, error: BridgeError): void {
    if (this.stream(direction) !== stream || this.closed) return;
    if (direction === 'input') this.capture = undefined;
    else this.playback = undefined;
    void stream.stop();
    this.audioLog.error(`${error.message}`);
    const next: DeviceSelection = { ...this.selection, error: error.message, [stateField(direction)]: 'missing' };
    delete next[fallbackField(direction)];
    this.applySelection(next);
    this.emit({ type: 'notice', level: 'error', message: error.message });
    this.retry.lost(direction, performance.now());
    this.retryDue();
    this.retryTimer ??= setInterval(() => this.retryDue(), 250);
  }

  /** Each direction due for a try gets one, in turn with every other device change. */
  private retryDue(): void {
    if (!this.retry.active) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
      return;
    }
    for (const direction of this.retry.due(performance.now())) {
      const run = this.deviceChanges.then(() => this.recoverDevice(direction));
      this.deviceChanges = run.catch(() => undefined);
    }
  }

  /**
   * One try at putting a lost direction back on the device chosen for it; failing that, while nothing is on air, on
   * the system default. A choice that returns replaces the default standing in for it.
   */
  private async recoverDevice(direction: Direction): Promise<void> {
    if (this.closed || !this.retry.pending(direction)) return;
    const chosen = this.selection[direction === 'input' ? 'inputId' : 'outputId'];
    const standIn = this.stream(direction);
    if (!standIn || chosen !== null) {
      let opened: CaptureStream | PlaybackStream | undefined;
      try {
        opened = direction === 'input' ? this.openCapture(chosen) : this.openPlayback(chosen);
      } catch {
        /* still gone */
      }
      if (opened) {
        if (direction === 'input') this.capture = opened as CaptureStream;
        else this.playback = opened as PlaybackStream;
        await standIn?.stop();
        this.retry.settled(direction);
        const next: DeviceSelection = { ...this.selection, [stateField(direction)]: 'ok' };
        delete next[fallbackField(direction)];
        if (next.inputState === 'ok' && next.outputState === 'ok') delete next.error;
        this.audioLog.info(`${direction} device ${chosen ?? 'default'} is back: reopened ${opened.device.id}`);
        this.applySelection(next);
        return;
      }
    }
    if (standIn || chosen === null) return;
    try {
      const opened = this.open(direction, null);
      this.audioLog.warn(`${direction} device ${chosen} is missing: the system default (${opened.device.id}) stands in until it returns`);
      this.applySelection({ ...this.selection, [fallbackField(direction)]: true });
    } catch {
      /* no default either (the sound server itself is gone): tried again with the choice */
    }
  }

  // ---- the microphone path ---------------------------------------------------------------------

  private onMicrophone(pcm: Int16Array): void {
    this.micMeter.feed(pcm);
    let offset = 0;
    while (offset < pcm.length) {
      if (this.frameFill === 0 && this.pendingSettings) this.applyEncoderSettings(this.pendingSettings);
      const frameSamples = this.encoder.frameSamples;
      const n = Math.min(pcm.length - offset, frameSamples - this.frameFill);
      this.frame.set(pcm.subarray(offset, offset + n), this.frameFill);
      this.frameFill += n;
      offset += n;
      if (this.frameFill === frameSamples) {
        this.sendFrame(this.frame.subarray(0, frameSamples), this.capturedSamples);
        this.capturedSamples += frameSamples;
        this.frameFill = 0;
      }
    }
  }

  private sendFrame(frame: Int16Array, capturedSamples: number): void {
    const targets: Remote[] = [];
    for (const id of this.routing.sendTo) {
      const r = this.remotes.get(id);
      if (r) targets.push(r);
    }
    const rooms = this.janus.targets(this.routing.sendTo);
    if (targets.length === 0 && rooms.length === 0) {
      if (this.wasTalking) this.packetizer.endSpurt();
      this.wasTalking = false;
      return;
    }
    this.wasTalking = true;
    const rtp = this.packetizer.packetize(this.encoder.encode(frame), capturedSamples);
    const handles: number[] = [];
    for (const r of targets) handles.push(r.peer.link.handle);
    for (const room of rooms) handles.push(room.handle);
    this.network.send(handles, rtp, frameAudioLevel(frame));
  }

  // ---- peers -------------------------------------------------------------------------------------

  private addPeer(id: string, iceServers: IceServer[]): void {
    if (this.remotes.has(id)) throw new Error(`peer "${id}" exists already`);
    this.setupBegins(`peer:${id}`);
    const peer = new RemotePeer(this.network.peer({ stationId: id, iceServers, frameMs: this.opts.frameMs, loopbackCandidates: this.opts.loopbackCandidates }));
    peer.on('description', (kind, sdp) => this.emit({ type: 'description', id, kind, sdp }));
    peer.on('candidate', (candidate) => this.emit({ type: 'candidate', id, candidate }));
    peer.on('connection', (state) => {
      // ICE and DTLS keep a core busy for tens of ms, in JavaScript on the network thread.
      if (state === 'connecting') this.setupBegins(`peer:${id}`);
      else if (state !== 'new') this.setupEnds(`peer:${id}`);
      this.peerLog(id).info(state);
      this.emit({ type: 'connection', id, state });
    });
    peer.on('firstRtp', () => this.peerLog(id).info('first RTP'));
    peer.on('mdnsResolved', (host, address) => this.peerLog(id).info(`mDNS candidate ${host} is ${address}`));
    peer.on('mdnsUnresolved', (host, reason) => {
      this.peerLog(id).warn(`mDNS candidate ${host} unresolved: ${reason}`);
      this.emit({ type: 'notice', level: 'warn', message: `${id}: its browser hides its address behind ${host}, which did not resolve (${reason}); without another way through, it cannot connect` });
    });
    peer.on('receiverReport', (fractionLost) => this.adaptation.report(id, fractionLost, performance.now()));
    const trace = process.env.PARTYLINE_TRACE_PLAYOUT ? new ConcealTrace(id, peer.playout, this.log.child({ component: 'trace' })) : undefined;
    const remote: Remote = {
      id,
      peer,
      lowLatency: false,
      meter: peer.meter,
      pull: trace ? (samples, now) => trace.pull(samples, now) : (samples, now) => peer.playout.pull(samples, now),
      prepareAhead: (samples, now) => peer.playout.prepareAhead(samples, now),
      gain: () => this.routing.gains[id] ?? 0,
    };
    this.remotes.set(id, remote);
    this.mixer.inputs.add(remote);
  }

  private async dropPeer(id: string, why: string): Promise<void> {
    const r = this.remotes.get(id);
    if (!r) return;
    this.playback?.expectBusy(PEER_SETUP_DRAIN_MS, PEER_SETUP_MS);
    this.setupEnds(`peer:${id}`);
    this.remotes.delete(id);
    this.concealment.forget(id);
    this.mixer.inputs.delete(r);
    this.adaptation.forget(id);
    this.peerLog(id).info(`closed (${why})`);
    await r.peer.close();
  }

  // ---- health ----------------------------------------------------------------------------------

  private watch(): void {
    const now = performance.now();
    this.promoteDeviceThreads();
    this.networkPriority?.settle();
    this.reportDemotion();
    this.adaptEncoder(now);
    this.reportXruns();
    this.reportPlayoutModes();
    this.reportConcealment();
    this.emit({ type: 'health', peers: [...this.health(now), ...this.janus.health(now)], speaker: this.speakerHealth(), selection: this.devices() });
  }

  private demotionsReported = 0;

  /** A guarded real-time thread that ran past the soft RLIMIT_RTTIME is back at its nice value: say so, once each. */
  private reportDemotion(): void {
    const demotions = realtimeDemotions();
    if (demotions === this.demotionsReported) return;
    this.demotionsReported = demotions;
    this.audioLog.warn('the media or network thread ran too long without a pause for a real-time thread: SIGXCPU put it back to its nice value');
  }

  private xrunsReported = { underruns: 0, overruns: 0 };
  private micGapLogged = { gapMs: 0, at: -Infinity };
  private tickWaitMs = 0;

  /** Each new dropout of the devices goes to the log as it happens: an operator (or a failing test) can place it. */
  private reportXruns(): void {
    const underruns = this.playback?.counters.underruns ?? 0;
    const overruns = this.capture?.counters.overruns ?? 0;
    // A new stream counts from zero again.
    const seen = { underruns: Math.min(this.xrunsReported.underruns, underruns), overruns: Math.min(this.xrunsReported.overruns, overruns) };
    this.tickWaitMs = this.playback?.takeLongestTickWaitMs() ?? 0;
    if (underruns > seen.underruns) {
      const inDevice = this.playback?.counters.deviceUnderflows ?? 0;
      const m = this.playback?.marginReading();
      this.audioLog.warn(
        `speaker underran ${underruns - seen.underruns} time(s) (${underruns} since it opened, ${inDevice} of them in the device itself; meanwhile a tick waited up to ${this.tickWaitMs.toFixed(1)} ms for the media thread; margin now ${m?.marginMs.toFixed(1)} ms${this.playback?.counters.deviceBufferMs != null ? `, device buffer ${this.playback.counters.deviceBufferMs.toFixed(1)} ms` : ''})`,
      );
    }
    if (overruns > seen.overruns) this.audioLog.warn(`microphone overran ${overruns - seen.overruns} time(s) (${overruns} since it opened)`);
    const gap = this.capture?.takeLongestGap();
    const now = performance.now();
    // A device that always delivers in large blocks (Bluetooth) is said once in a while, a longer wait at once.
    if (gap && gap.gapMs >= MIC_GAP_LOG_MS && (gap.gapMs > this.micGapLogged.gapMs || now - this.micGapLogged.at > 10_000)) {
      this.micGapLogged = { gapMs: gap.gapMs, at: now };
      this.audioLog.warn(`microphone delivered nothing for ${gap.gapMs.toFixed(1)} ms (a tick waited up to ${gap.tickWaitMs.toFixed(1)} ms for the media thread)`);
    }
    this.xrunsReported = { underruns, overruns };
  }

  private speakerHealth(): SpeakerHealth | null {
    const p = this.playback;
    if (!p) return null;
    const m = p.marginReading();
    return { marginMs: m.marginMs, drainMs: m.drainMs, tickWaitMs: this.tickWaitMs, underruns: p.counters.underruns, deviceUnderflows: p.counters.deviceUnderflows, deviceBufferMs: p.counters.deviceBufferMs };
  }

  /** Every concealment goes to the log with what it points at: the path (lost, late) or our own speaker (early pulls). */
  private reportConcealment(): void {
    for (const r of this.remotes.values()) {
      const line = this.concealment.take(r.id, r.peer.playout.stats(), r.peer.playout.takeLongestArrivalGapMs());
      if (line) this.log.child({ component: 'playout' }).warn(line);
    }
  }

  /** A frame less or more of delay is something an operator may hear and a latency figure must explain. */
  private reportPlayoutModes(): void {
    for (const r of this.remotes.values()) {
      const s = r.peer.playout.stats();
      if (s.lowLatency === r.lowLatency) continue;
      r.lowLatency = s.lowLatency;
      const slack = Number.isNaN(s.arrivalSlackMs) ? 'no packet landed before the latest pull' : `packets land ${s.arrivalSlackMs.toFixed(1)} ms before the pull`;
      this.log.child({ component: 'playout' }).info(`${r.id}: ${s.lowLatency ? 'low latency, each packet plays at the next pull' : 'a frame held back'} (${slack}; target ${s.targetDelayMs.toFixed(1)} ms)`);
    }
  }

  private applyEncoderSettings(next: EncoderSettings): void {
    this.pendingSettings = undefined;
    this.encoder.apply(next);
    const frameMs = this.encoder.frameSamples / samplesFor(1);
    this.log.child({ component: 'send' }).info(`${next.bitrate} bps, FEC ${next.fec ? `on for ${next.packetLossPercent} % loss` : 'off'}, Opus ${this.encoder.application}, ${frameMs} ms frames`);
  }

  /** One encoder serves every remote we talk to: it protects against the loss of the worst of them. The change waits for the frame in progress (onMicrophone). */
  private adaptEncoder(now: number): void {
    const next = this.adaptation.settings(this.routing.sendTo, now);
    const current = this.encoderSettings;
    if (next.bitrate === current.bitrate && next.fec === current.fec && next.packetLossPercent === current.packetLossPercent) return;
    this.pendingSettings = next;
    this.encoderSettings = next;
  }

  private health(now: number): PeerMediaHealth[] {
    return [...this.remotes.values()].map((r) => {
      const s = r.peer.playout.stats();
      const p = r.peer;
      return {
        id: r.id,
        connection: p.connection,
        rttMs: p.rttMs,
        rtpAgoMs: p.lastRtpAt > 0 ? now - p.lastRtpAt : null,
        connectedForMs: p.connectedAt > 0 ? now - p.connectedAt : null,
        jitterMs: s.jitterMs,
        lossRate: s.lossRate,
        playoutDelayMs: s.currentDelayMs,
        targetDelayMs: s.targetDelayMs,
        lowLatency: s.lowLatency,
        concealedFrames: s.concealedFrames,
        stretchedFrames: s.stretchedFrames,
        fecRecoveredFrames: s.fecRecoveredFrames,
        remoteLossRate: this.adaptation.reportedLoss(r.id, now),
        ...(p.speech.reporting(now) ? { speaking: p.speech.speaking(now), levelDbov: p.speech.readPeakDbov() } : {}),
      };
    });
  }

  private publishMeters(): void {
    const peers: Record<string, { peakDb: number; rmsDb: number }> = {};
    for (const [id, r] of this.remotes) peers[id] = r.meter.read();
    this.janus.meters(peers);
    const lines: Record<string, { peakDb: number; rmsDb: number }> = {};
    for (const [line, bus] of this.lineBuses) lines[line] = bus.meter.read();
    this.emit({ type: 'meters', t: Date.now(), input: this.micMeter.read(), output: this.mixer.output.read(), peers, lines });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    clearInterval(this.retryTimer);
    for (const id of [...this.remotes.keys()]) await this.dropPeer(id, 'disconnect');
    await this.janus.close();
    const [c, p] = [this.capture, this.playback];
    this.capture = undefined;
    this.playback = undefined;
    await Promise.all([c?.stop(), p?.stop(), this.network.close()]);
    void this.realtimeKit?.then((k) => k.close());
  }
}

function stateField(direction: Direction): 'inputState' | 'outputState' {
  return direction === 'input' ? 'inputState' : 'outputState';
}

function fallbackField(direction: Direction): 'inputFallback' | 'outputFallback' {
  return direction === 'input' ? 'inputFallback' : 'outputFallback';
}
