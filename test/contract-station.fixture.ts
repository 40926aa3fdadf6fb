// A scripted StationControl for control-surface tests: it keeps real contract-shaped state (devices,
// lines, talk/listen/volume) so transports and the renderer are exercised end to end without audio.
import {
  type AudioDevice,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type ConnectConfig,
  type DiscoveredHost,
  DEFAULT_SETTINGS,
  type EventListener,
  type EventName,
  type EventPayload,
  type LineState,
  type DirectState,
  type MasterState,
  type Settings,
  type StationControl,
  type StationState,
  type UpdateState,
} from '../electron/common/contract';

/** What the fixture's hosting reports as its certificate's SHA-256. */
export const FIXTURE_FINGERPRINT = Array.from({ length: 32 }, (_, i) => ((i * 7) % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');

function device(id: string, name: string, inputs: number, outputs: number): AudioDevice {
  return { id, name, hostApi: 'PulseAudio', maxInputChannels: inputs, maxOutputChannels: outputs, defaultSampleRate: 48000 };
}

export class ScriptedStation implements StationControl {
  readonly calls: { name: CommandName; input: unknown }[] = [];
  inputs: AudioDevice[] = [device('PulseAudio:Desk mic:0', 'Desk mic', 1, 0), device('PulseAudio:Headset:0', 'Headset', 1, 2)];
  outputs: AudioDevice[] = [device('PulseAudio:Speakers:0', 'Speakers', 0, 2), device('PulseAudio:Headset:0', 'Headset', 1, 2)];
  settings: Settings = structuredClone(DEFAULT_SETTINGS);
  /** What `lan.hosts` answers: hosts a test puts on the pretend LAN. */
  lanHosts: DiscoveredHost[] = [];
  /** Hotkeys `hotkeys.getState` reports as held by another application. */
  takenHotkeys: string[] = [];
  toneOn = false;
  update: UpdateState = { phase: 'idle', currentVersion: '0.0.0-test', channel: 'stable', offer: null, progress: null, checkedAt: null };
  state: StationState = {
    connection: 'idle',
    stationId: null,
    name: null,
    hosting: null,
    lines: [],
    devices: { inputId: null, outputId: null, inputState: 'ok', outputState: 'ok' },
    master: { micMuted: false, volume: 1, callTone: false },
    direct: { talkingTo: [], incoming: [], replyTo: null },
  };
  /** Other stations on our lines as far as private talk is concerned, besides the lines' rosters. */
  peers: { stationId: string; name: string }[] = [{ stationId: 'stage-left', name: 'Stage Left' }];
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const listener of [...this.listeners]) listener(name, payload);
  }

  /** Emits without type checking, to prove the transports drop contract violations. */
  emitRaw(name: string, payload: unknown): void {
    for (const listener of [...this.listeners]) (listener as (n: string, p: unknown) => void)(name, payload);
  }

  /** The chosen input vanished (unplugged): the station reports it, the system default stands in, and the UI must say so. */
  unplugInput(id: string): void {
    this.inputs = this.inputs.filter((candidate) => candidate.id !== id);
    if (this.state.devices.inputId === id) {
      this.state.devices = { ...this.state.devices, inputState: 'missing', inputFallback: true };
      this.emit('devices', { selection: this.state.devices });
      this.emit('state', this.state);
    }
  }

  async invoke<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
    this.calls.push({ name, input });
    return this.answer(name, input as never) as Promise<CommandOutput<C>>;
  }

  private async answer(name: CommandName, input: Record<string, unknown>): Promise<unknown> {
    switch (name) {
      case 'devices.list':
        return { inputs: this.inputs, outputs: this.outputs, defaultInputId: this.inputs[0]?.id ?? null, defaultOutputId: this.outputs[0]?.id ?? null };
      case 'devices.select': {
        const next = { ...this.state.devices };
        if ('inputId' in input) {
          next.inputId = (input.inputId as string | null) ?? null;
          next.inputState = next.inputId === null || this.inputs.some((d) => d.id === next.inputId) ? 'ok' : 'missing';
          delete next.inputFallback;
        }
        if ('outputId' in input) {
          next.outputId = (input.outputId as string | null) ?? null;
          next.outputState = next.outputId === null || this.outputs.some((d) => d.id === next.outputId) ? 'ok' : 'missing';
        }
        this.state.devices = next;
        this.emit('state', this.state);
        return next;
      }
      case 'devices.testTone':
        this.toneOn = input.on as boolean;
        return { on: this.toneOn };
      case 'station.connect': {
        const config = input as unknown as ConnectConfig;
        this.state = {
          ...this.state,
          connection: 'joined',
          stationId: config.stationId ?? 'station-local',
          name: config.name,
          hosting:
            config.server.kind === 'host'
              ? config.server.insecure
                ? { url: `ws://127.0.0.1:${config.server.port}/`, bind: '0.0.0.0', joinUrls: [`ws://10.0.0.5:${config.server.port}/`] }
                : { url: `wss://127.0.0.1:${config.server.port}/`, bind: '0.0.0.0', joinUrls: [`wss://10.0.0.5:${config.server.port}/`], fingerprint: FIXTURE_FINGERPRINT }
              : null,
          ...(config.server.kind === 'remote' ? { joined: { url: config.server.url } } : {}),
          lines: config.lines.map(({ line }) => ({ line, talk: false, listen: true, volume: 1, talkers: [], members: [], call: null })),
        };
        this.emit('state', this.state);
        return this.state;
      }
      case 'station.disconnect':
        this.state = { ...this.state, connection: 'idle', stationId: null, name: null, hosting: null, lines: [] };
        delete this.state.joined;
        this.emit('state', this.state);
        return this.state;
      case 'lan.hosts':
        return { hosts: this.lanHosts };
      case 'station.getState':
        return this.state;
      case 'station.setLines': {
        const lines = (input.lines as { line: string }[]).map(({ line }) => this.state.lines.find((l) => l.line === line) ?? { line, talk: false, listen: true, volume: 1, talkers: [], members: [], call: null });
        this.state = { ...this.state, lines };
        this.emit('state', this.state);
        return this.state;
      }
      case 'line.setTalk':
        return this.updateLine(input.line as string, { talk: input.on as boolean });
      case 'line.setListen':
        return this.updateLine(input.line as string, { listen: input.on as boolean });
      case 'line.setVolume':
        return this.updateLine(input.line as string, { volume: input.volume as number });
      case 'line.call': {
        const call = { from: this.state.stationId ?? 'station-local', name: this.state.name ?? 'station' };
        const next = this.updateLine(input.line as string, { call });
        this.emit('call', { line: next.line, ...call, on: true });
        return next;
      }
      case 'line.answerCall': {
        const call = this.lineCall(input.line as string);
        const next = this.updateLine(input.line as string, { call: null });
        if (call) this.emit('call', { line: next.line, ...call, on: false, reason: 'answered', by: { stationId: this.state.stationId ?? 'station-local', name: this.state.name ?? 'station' } });
        return next;
      }
      case 'talk.allOff':
        this.state = { ...this.state, lines: this.state.lines.map((line) => ({ ...line, talk: false })), direct: { ...(this.state.direct ?? { incoming: [], replyTo: null }), talkingTo: [] } };
        this.emit('state', this.state);
        return this.state;
      case 'talk.direct': {
        const member = [...this.state.lines.flatMap((line) => line.members ?? []), ...this.peers].find((m) => m.stationId === input.stationId);
        if (!member) throw Object.assign(new Error(`station "${String(input.stationId)}" is not on any of this station's lines`), { code: 'invalid', field: 'stationId' });
        return this.setDirectTalk({ stationId: member.stationId, name: member.name }, input.on as boolean);
      }
      case 'talk.reply': {
        const to = this.state.direct?.replyTo;
        if (!to) throw Object.assign(new Error('nobody has talked to this station directly yet: nothing to reply to'), { code: 'failed' });
        return this.setDirectTalk(to, input.on as boolean);
      }
      case 'master.setMicMute':
        return this.setMaster({ micMuted: input.muted as boolean });
      case 'master.setVolume':
        return this.setMaster({ volume: input.volume as number });
      case 'master.setCallTone':
        return this.setMaster({ callTone: input.on as boolean });
      case 'settings.get':
        return this.settings;
      case 'hotkeys.getState':
        return {
          available: true,
          reason: null,
          bindings: this.settings.hotkeys.map((b) =>
            this.takenHotkeys.includes(b.hotkey) ? { ...b, state: 'taken', message: `${b.hotkey} (line ${b.line}) is held by another application` } : { ...b, state: 'active' },
          ),
        };
      case 'settings.update':
        this.settings = { ...this.settings, ...input };
        return this.settings;
      case 'app.info':
        return { version: '0.0.0-test', transport: 'ipc', platform: 'test' };
      case 'update.getState':
        return this.update;
      case 'update.check':
        return this.setUpdate({ phase: 'up-to-date', checkedAt: Date.now() });
      case 'update.setChannel':
        return this.setUpdate({ channel: input.channel as 'stable' | 'beta' });
      case 'update.download': {
        const offer = { version: '0.0.1', channel: this.update.channel ?? 'stable', releaseDate: '2026-11-20T10:00:00.000Z', releaseNotes: null };
        return this.setUpdate({ phase: 'downloaded', offer, progress: null });
      }
      case 'update.restart': {
        const offer = this.update.offer;
        if (!offer) throw Object.assign(new Error('no verified update has been downloaded yet'), { code: 'failed' });
        const latchedTalkKeys = this.state.lines.filter((line) => line.talk).length;
        if (latchedTalkKeys > 0 && input.confirmed !== true) return { outcome: 'needs-confirmation', offer, activity: { latchedTalkKeys, activeLines: latchedTalkKeys } };
        return { outcome: 'restarting', offer };
      }
    }
  }

  private lineCall(line: string): LineState['call'] {
    return this.state.lines.find((candidate) => candidate.line === line)?.call ?? null;
  }

  private setMaster(change: Partial<MasterState>): MasterState {
    const master: MasterState = { ...(this.state.master ?? { micMuted: false, volume: 1, callTone: false }), ...change };
    this.state = { ...this.state, master };
    this.emit('state', this.state);
    return master;
  }

  private setDirectTalk(target: { stationId: string; name: string }, on: boolean): DirectState {
    const current = this.state.direct ?? { talkingTo: [], incoming: [], replyTo: null };
    const others = current.talkingTo.filter((t) => t.stationId !== target.stationId);
    const direct = { ...current, talkingTo: on ? [...others, target] : others };
    this.state = { ...this.state, direct };
    this.emit('state', this.state);
    return direct;
  }

  /** Another station starts or stops talking to us alone (what signalling would deliver). */
  incomingDirect(from: { stationId: string; name: string }, on: boolean): void {
    const current = this.state.direct ?? { talkingTo: [], incoming: [], replyTo: null };
    const others = current.incoming.filter((t) => t.stationId !== from.stationId);
    this.state = { ...this.state, direct: { ...current, incoming: on ? [...others, from] : others, replyTo: on ? from : current.replyTo } };
    this.emit('state', this.state);
  }

  /** Another station calls on one of our lines (what the signalling server would deliver). */
  incomingCall(line: string, from: { stationId: string; name: string }, on: boolean): void {
    this.updateLine(line, { call: on ? { from: from.stationId, name: from.name } : null });
    this.emit('call', { line, from: from.stationId, name: from.name, on, ...(on ? {} : { reason: 'timeout' as const }) });
  }

  private setUpdate(change: Partial<UpdateState>): UpdateState {
    this.update = { ...this.update, ...change };
    this.emit('update', this.update);
    return this.update;
  }

  private updateLine(line: string, change: Partial<LineState>): LineState {
    const index = this.state.lines.findIndex((candidate) => candidate.line === line);
    const current = this.state.lines[index];
    if (!current) throw Object.assign(new Error(`not joined to line "${line}"`), { code: 'invalid', field: 'line' });
    const next = { ...current, ...change };
    this.state.lines[index] = next;
    this.emit('state', this.state);
    return next;
  }
}
