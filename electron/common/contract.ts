// The one control contract between the station (engine, main process, headless station) and any
// control surface (the renderer over IPC or WebSocket, Stream Deck/Companion-style controllers).
// Every message crossing a process or network boundary is validated against these schemas on both sides.
import { z } from 'zod';
import { formatHotkey, parseHotkey } from './hotkey';
import { CALL_TIMEOUT_MS } from './signalling-protocol';

export { CALL_TIMEOUT_MS };
import { lineName } from './line-name';
import { DEFAULT_TALK_HOLD_MS } from './talk-key';
import { Fingerprint } from './fingerprint';

/** dBFS floor: -Infinity is not representable in JSON, so silence is reported as this value. */
export const METER_FLOOR_DB = -120;

// ---------------------------------------------------------------------------------------------
// Shared shapes

export const AudioDevice = z.object({
  /** Stable across restarts: host API + name + index among devices sharing that name. */
  id: z.string().min(1),
  name: z.string(),
  hostApi: z.string(),
  maxInputChannels: z.number().int().nonnegative(),
  maxOutputChannels: z.number().int().nonnegative(),
  defaultSampleRate: z.number().positive(),
});
export type AudioDevice = z.infer<typeof AudioDevice>;

export const DeviceList = z.object({
  inputs: z.array(AudioDevice),
  outputs: z.array(AudioDevice),
  defaultInputId: z.string().nullable(),
  defaultOutputId: z.string().nullable(),
});
export type DeviceList = z.infer<typeof DeviceList>;

export const DeviceState = z.enum(['ok', 'missing', 'error']);
export type DeviceState = z.infer<typeof DeviceState>;

export const DeviceSelection = z.object({
  inputId: z.string().nullable(),
  outputId: z.string().nullable(),
  inputState: DeviceState,
  outputState: DeviceState,
  error: z.string().optional(),
  /**
   * While the chosen input is missing ('missing'), the system default stands in for it: true. The choice stays
   * `inputId`, reopened by itself once it returns.
   */
  inputFallback: z.boolean().optional(),
  /** The same for the output. */
  outputFallback: z.boolean().optional(),
  /** Capture chunks the device overwrote before we read them, since the input opened. */
  inputOverruns: z.number().int().nonnegative().optional(),
  /** Times the output ran dry and played silence, since it opened. */
  outputUnderruns: z.number().int().nonnegative().optional(),
});
export type DeviceSelection = z.infer<typeof DeviceSelection>;

export const LineName = lineName;

export const StationId = z.string().min(1).max(128);

const WebSocketUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'ws:' || url.protocol === 'wss:';
    } catch {
      return false;
    }
  }, 'server url must be a ws:// or wss:// URL');

export { Fingerprint };

export const ServerConfig = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('remote'),
      url: WebSocketUrl,
      /** Trust this certificate for a wss:// server (re-trust after it changed); pinned on first use otherwise. */
      fingerprint: Fingerprint.optional(),
      /** Join a plain ws:// server: only on purpose, as line secrets then travel in clear. */
      insecure: z.boolean().optional(),
    })
    .superRefine((server, ctx) => {
      if (server.url.startsWith('ws:') && server.insecure !== true) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'a plain ws:// server carries line secrets in clear: use wss://, or join it on purpose with insecure (--insecure)' });
      }
    }),
  z.object({
    kind: z.literal('host'),
    port: z.number().int().min(0).max(65535),
    /** Default 0.0.0.0: every interface, for the crew's LAN. */
    bind: z.string().min(1).optional(),
    /** Serve plain ws:// and http:// instead of TLS: only on purpose (a lab, a test). */
    insecure: z.boolean().optional(),
  }),
]);
export type ServerConfig = z.infer<typeof ServerConfig>;

/** A hosting station (or signalling server) found on the LAN by its mDNS/DNS-SD record. */
export const DiscoveredHost = z.object({
  /** The service instance name: the hosting station's name. */
  name: z.string().min(1).max(63),
  url: WebSocketUrl,
  lines: z.array(LineName),
  /** The certificate's SHA-256 the record carries; null for a plain ws:// host. */
  fingerprint: Fingerprint.nullable(),
});
export type DiscoveredHost = z.infer<typeof DiscoveredHost>;

export const LineJoin = z.object({ line: LineName, secret: z.string().optional() });
export type LineJoin = z.infer<typeof LineJoin>;

export const IceServer = z.object({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServer>;

export const ConnectConfig = z.object({
  server: ServerConfig,
  stationId: StationId.optional(),
  name: z.string().trim().min(1, 'station name is required').max(64),
  lines: z.array(LineJoin).min(1, 'at least one line is required'),
  iceServers: z.array(IceServer),
});
export type ConnectConfig = z.infer<typeof ConnectConfig>;

export const Talker = z.object({ stationId: StationId, name: z.string() });
export type Talker = z.infer<typeof Talker>;

export const Volume = z.number().min(0).max(1);

/** Who is on a line: a station or a browser guest. */
export const LineMember = z.object({ stationId: StationId, name: z.string(), kind: z.enum(['station', 'browser']) });
export type LineMember = z.infer<typeof LineMember>;

/** A call signal flashing on a line: who called, until answered or CALL_TIMEOUT_MS pass. */
export const LineCall = z.object({ from: StationId, name: z.string() });
export type LineCall = z.infer<typeof LineCall>;

export const LineState = z.object({
  line: LineName,
  talk: z.boolean(),
  listen: z.boolean(),
  volume: Volume,
  talkers: z.array(Talker),
  /** Everyone else on the line (the roster); a station always sends it. */
  members: z.array(LineMember).optional(),
  /** The call flashing on this line now, if any; a station always sends it (null when none). */
  call: LineCall.nullable().optional(),
  /**
   * How the line's media travels: `mesh` (a call per member) or `janus` (through the media server, with the state of
   * this station's connection to it). `error` says why a line meant for Janus is not on it, or why Janus failed.
   */
  carrier: z
    .object({ kind: z.enum(['mesh', 'janus']), janus: z.enum(['connecting', 'connected', 'failed', 'closed']).optional(), error: z.string().optional() })
    .optional(),
});
export type LineState = z.infer<typeof LineState>;

export const ConnectionState = z.enum(['idle', 'connecting', 'joined', 'reconnecting', 'error']);
export type ConnectionState = z.infer<typeof ConnectionState>;

/** The master section: the microphone's mute and the speaker's overall volume, across all lines. */
export const MasterState = z.object({
  /** While muted nothing leaves the microphone and no line shows us talking; talk keys keep their state. */
  micMuted: z.boolean(),
  /** Applied after the line volumes, to everything the speaker plays. */
  volume: Volume,
  /** A call arriving on one of our lines also sounds a short tone on the speaker (off by default). */
  callTone: z.boolean(),
});
export type MasterState = z.infer<typeof MasterState>;

/** Private (point-to-point) talk: whom we talk to alone, who talks to us alone, and whom the reply key answers. */
export const DirectState = z.object({
  /** Stations our microphone goes to directly (talk.direct, talk.reply). */
  talkingTo: z.array(Talker),
  /** Stations talking to us directly now: heard whatever our listen keys say. */
  incoming: z.array(Talker),
  /** The last station that talked to us directly: what talk.reply talks back to; null before anyone did. */
  replyTo: Talker.nullable(),
});
export type DirectState = z.infer<typeof DirectState>;

export const StationState = z.object({
  connection: ConnectionState,
  error: z.string().optional(),
  stationId: z.string().nullable(),
  name: z.string().nullable(),
  hosting: z
    .object({
      /** What this machine's own clients use (loopback when bound to every interface). */
      url: z.string(),
      /** The address the server is bound to. */
      bind: z.string().optional(),
      /** What other machines use: one URL per address of this machine the server is reachable on. */
      joinUrls: z.array(z.string()).optional(),
      /** SHA-256 of the certificate served (absent: plain ws://, hosted with insecure). */
      fingerprint: z.string().optional(),
    })
    .nullable(),
  /** The server this station joined as a client (absent while idle or hosting). */
  joined: z.object({ url: z.string(), fingerprint: z.string().optional() }).optional(),
  lines: z.array(LineState),
  devices: DeviceSelection,
  /** A station always sends it. */
  master: MasterState.optional(),
  /** A station always sends it. */
  direct: DirectState.optional(),
});
export type StationState = z.infer<typeof StationState>;

// ---------------------------------------------------------------------------------------------
// Updates (the desktop app updates itself; a headless station answers with phase 'unmanaged')

/** `stable` reads the feed's latest-<platform>.yml, `beta` its beta-<platform>.yml (see docs/updates.md). */
export const UpdateChannel = z.enum(['stable', 'beta']);
export type UpdateChannel = z.infer<typeof UpdateChannel>;

export const UpdateOffer = z.object({
  version: z.string().min(1),
  channel: UpdateChannel,
  releaseDate: z.string(),
  releaseNotes: z.string().nullable(),
});
export type UpdateOffer = z.infer<typeof UpdateOffer>;

export const UpdateProgress = z.object({
  percent: z.number().min(0).max(100),
  transferredBytes: z.number().nonnegative(),
  totalBytes: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
});
export type UpdateProgress = z.infer<typeof UpdateProgress>;

export const UpdatePhase = z.enum(['unmanaged', 'idle', 'checking', 'up-to-date', 'available', 'downloading', 'downloaded', 'error']);
export type UpdatePhase = z.infer<typeof UpdatePhase>;

export const UpdateState = z.object({
  phase: UpdatePhase,
  currentVersion: z.string(),
  /** null when this process does not update itself (phase 'unmanaged'). */
  channel: UpdateChannel.nullable(),
  /** The newer version found ('available' onwards), or what the feed has when 'up-to-date'. */
  offer: UpdateOffer.nullable(),
  progress: UpdateProgress.nullable(),
  /** Phase 'error': what went wrong (the updater's own words). Phase 'unmanaged': who updates this station. */
  message: z.string().optional(),
  errorCode: z.string().optional(),
  /** Epoch ms of the last completed check. */
  checkedAt: z.number().nullable(),
});
export type UpdateState = z.infer<typeof UpdateState>;

/** What a restart would cut off. */
export const EngineActivity = z.object({
  latchedTalkKeys: z.number().int().nonnegative(),
  activeLines: z.number().int().nonnegative(),
});
export type EngineActivity = z.infer<typeof EngineActivity>;

export const UpdateRestartResult = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('restarting'), offer: UpdateOffer }),
  /** Talk is latched or a line is active: ask the operator, then send update.restart again with confirmed: true. */
  z.object({ outcome: z.literal('needs-confirmation'), offer: UpdateOffer, activity: EngineActivity }),
]);
export type UpdateRestartResult = z.infer<typeof UpdateRestartResult>;

/** A global push-to-talk key (desktop app): held, it talks on its line wherever the focus is. */
export const HotkeyBinding = z.object({
  hotkey: z.string().superRefine((value, ctx) => {
    try {
      parseHotkey(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^hotkey: /, '') });
    }
  }),
  line: LineName,
});
export type HotkeyBinding = z.infer<typeof HotkeyBinding>;

/** Each saved hotkey as the desktop sees it: keying its line, held by another application, or off (and why). */
export const HotkeyState = z.object({
  /** Whether this desktop gives global keys at all; reason says why not. */
  available: z.boolean(),
  reason: z.string().nullable(),
  bindings: z.array(
    z.object({
      hotkey: z.string(),
      line: LineName,
      state: z.enum(['active', 'taken', 'off']),
      /** For 'taken' and 'off': what the operator should do. */
      message: z.string().optional(),
    }),
  ),
});
export type HotkeyState = z.infer<typeof HotkeyState>;

const HotkeyBindings = z.array(HotkeyBinding).superRefine((bindings, ctx) => {
  const seen = new Map<string, string>();
  bindings.forEach((b, i) => {
    let name: string;
    try {
      name = formatHotkey(parseHotkey(b.hotkey));
    } catch {
      return;
    }
    const taken = seen.get(name);
    if (taken !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'hotkey'], message: `${name} is already taken by line ${taken}` });
    else seen.set(name, b.line);
  });
});

export const ControlEndpoint = z.object({
  port: z.number().int().min(1).max(65535),
  token: z.string().min(16, 'must be at least 16 characters').max(256, 'must be at most 256 characters'),
});
export type ControlEndpoint = z.infer<typeof ControlEndpoint>;

export const Settings = z.object({
  /** Bumped when the stored shape changes; the store migrates or resets older files. */
  version: z.literal(1),
  /** Last values entered on the Connect screen, offered again next time. */
  connect: ConnectConfig.nullable(),
  /** Chosen devices by stable id; null means the system default. */
  devices: z.object({ inputId: z.string().nullable(), outputId: z.string().nullable() }),
  /** A talk key held longer than this is momentary; a shorter press latches. */
  talkHoldThresholdMs: z.number().int().min(50).max(2000),
  testTone: z.object({ frequencyHz: z.number().min(20).max(20000), levelDb: z.number().min(-60).max(0) }),
  /** Which release channel the desktop app follows. */
  updateChannel: UpdateChannel,
  /** Global push-to-talk keys of the desktop app. */
  hotkeys: HotkeyBindings,
  /**
   * The control WebSocket's port and token, kept across restarts so a hardware panel configured once keeps working.
   * Null until the first start picks them.
   */
  control: ControlEndpoint.nullable(),
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = {
  version: 1,
  connect: null,
  devices: { inputId: null, outputId: null },
  talkHoldThresholdMs: DEFAULT_TALK_HOLD_MS,
  testTone: { frequencyHz: 1000, levelDb: -18 },
  updateChannel: 'stable',
  hotkeys: [],
  control: null,
};

export const SettingsPatch = Settings.omit({ version: true }).partial();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export const Meter = z.object({
  peakDb: z.number().min(METER_FLOOR_DB).max(24),
  rmsDb: z.number().min(METER_FLOOR_DB).max(24),
});
export type Meter = z.infer<typeof Meter>;

export const PeerConnection = z.enum(['new', 'connecting', 'connected', 'no-rtp', 'failed', 'closed']);
export type PeerConnection = z.infer<typeof PeerConnection>;

export const PeerHealth = z.object({
  stationId: StationId,
  name: z.string(),
  connection: PeerConnection,
  rttMs: z.number().nonnegative().nullable(),
  jitterMs: z.number().nonnegative(),
  lossRate: z.number().min(0).max(1),
  playoutDelayMs: z.number().nonnegative(),
  targetDelayMs: z.number().nonnegative(),
  /** Packets land well before each pull, so each plays at the next pull with no frame held back (ArrivalSlack). */
  lowLatency: z.boolean().optional(),
  concealedFrames: z.number().int().nonnegative(),
  /** Frames played time-stretched (accelerated or expanded) to move the delay toward its target. */
  stretchedFrames: z.number().int().nonnegative().optional(),
  /** Lost frames rebuilt from the next packet's in-band FEC instead of concealed. */
  fecRecoveredFrames: z.number().int().nonnegative().optional(),
  /** Loss the remote reports (RTCP) on what we send it, smoothed; null until it has reported. */
  remoteLossRate: z.number().min(0).max(1).nullable().optional(),
  /** From the RFC 6464 levels the remote puts on its RTP; absent when it sends none. */
  speaking: z.boolean().optional(),
  /** Loudest reported level since the previous health event, in dBov (-127 silence .. 0). */
  levelDbov: z.number().min(-127).max(0).optional(),
});
export type PeerHealth = z.infer<typeof PeerHealth>;

/** The speaker's side of the device path: how much it keeps queued ahead of the device, and why. */
export const SpeakerHealth = z.object({
  /** What the speaker keeps queued ahead of its device at the most, ms: sized from what this machine does. */
  marginMs: z.number().nonnegative(),
  /** The deepest drain between two top-ups the margin covers: the device's requests plus scheduling jitter, ms. */
  drainMs: z.number().nonnegative(),
  /** The longest a device tick waited for the media thread since the previous health event, ms. */
  tickWaitMs: z.number().nonnegative(),
  /** Times the speaker ran short since it opened, and of those the ones in the device's own buffer. */
  underruns: z.number().int().nonnegative(),
  deviceUnderflows: z.number().int().nonnegative(),
  /** What the device (the sound server) holds beyond the speaker's queue, ms: it deepens after the device's own underflows. Null where the host API does not say. */
  deviceBufferMs: z.number().nonnegative().nullable(),
});
export type SpeakerHealth = z.infer<typeof SpeakerHealth>;

export const PresencePeer = z.object({
  stationId: StationId,
  name: z.string(),
  kind: z.enum(['station', 'browser']),
  lines: z.array(z.string()),
  talking: z.array(z.string()),
});
export type PresencePeer = z.infer<typeof PresencePeer>;

const Empty = z.object({}).strict();

// ---------------------------------------------------------------------------------------------
// Commands (request -> response) and events (station -> control surface)

export const Commands = {
  'devices.list': { input: Empty, output: DeviceList },
  'devices.select': {
    input: z.object({ inputId: z.string().nullable().optional(), outputId: z.string().nullable().optional() }).strict(),
    output: DeviceSelection,
  },
  'devices.testTone': {
    input: z
      .object({
        on: z.boolean(),
        frequencyHz: z.number().min(20).max(20000).optional(),
        levelDb: z.number().min(-60).max(0).optional(),
      })
      .strict(),
    output: z.object({ on: z.boolean() }),
  },
  'station.connect': { input: ConnectConfig, output: StationState },
  'station.disconnect': { input: Empty, output: StationState },
  'station.getState': { input: Empty, output: StationState },
  /** Hosts found on the LAN over mDNS/DNS-SD (browsing starts at the first call and goes on). */
  'lan.hosts': { input: Empty, output: z.object({ hosts: z.array(DiscoveredHost) }) },
  /** Joins and leaves lines on air (the protocol's `lines`): peers on the lines kept are untouched. */
  'station.setLines': { input: z.object({ lines: ConnectConfig.shape.lines }).strict(), output: StationState },
  'line.setTalk': { input: z.object({ line: LineName, on: z.boolean() }).strict(), output: LineState },
  'line.setListen': { input: z.object({ line: LineName, on: z.boolean() }).strict(), output: LineState },
  'line.setVolume': { input: z.object({ line: LineName, volume: Volume }).strict(), output: LineState },
  /** Flashes the line's call light at every other member until one answers or CALL_TIMEOUT_MS pass. */
  'line.call': { input: z.object({ line: LineName }).strict(), output: LineState },
  /** Answers (clears) the call flashing on the line, at every member. */
  'line.answerCall': { input: z.object({ line: LineName }).strict(), output: LineState },
  /** Every talk key off at once. */
  'talk.allOff': { input: Empty, output: StationState },
  /** Talks to one station on our lines alone; it hears us even where it listens to no line we share. */
  'talk.direct': { input: z.object({ stationId: StationId, on: z.boolean() }).strict(), output: DirectState },
  /** Talks back, directly, to the last station that talked to us directly. */
  'talk.reply': { input: z.object({ on: z.boolean() }).strict(), output: DirectState },
  'master.setMicMute': { input: z.object({ muted: z.boolean() }).strict(), output: MasterState },
  'master.setVolume': { input: z.object({ volume: Volume }).strict(), output: MasterState },
  /** Whether a call arriving on one of our lines also sounds a short tone (CALL_TONE_HZ) on the speaker. */
  'master.setCallTone': { input: z.object({ on: z.boolean() }).strict(), output: MasterState },
  'settings.get': { input: Empty, output: Settings },
  /** The global hotkeys' state: which key their lines, which another application holds. */
  'hotkeys.getState': { input: Empty, output: HotkeyState },
  'settings.update': { input: SettingsPatch.strict(), output: Settings },
  'update.getState': { input: Empty, output: UpdateState },
  /** Asks the feed now; resolves with the outcome (a feed that is down is phase 'error', not a failed command). */
  'update.check': { input: Empty, output: UpdateState },
  'update.setChannel': { input: z.object({ channel: UpdateChannel }).strict(), output: UpdateState },
  /** Downloads and sha512-verifies the offer; progress arrives as `update` events. */
  'update.download': { input: Empty, output: UpdateState },
  /** Restarts into the downloaded update; over live audio only with confirmed: true. */
  'update.restart': { input: z.object({ confirmed: z.boolean().optional() }).strict(), output: UpdateRestartResult },
  'app.info': {
    input: Empty,
    output: z.object({ version: z.string(), transport: z.enum(['ipc', 'websocket']), platform: z.string() }),
  },
} as const;

export const Events = {
  meters: z.object({
    t: z.number(),
    input: Meter,
    output: Meter,
    peers: z.record(z.string(), Meter),
    /** What each joined line plays: its talkers mixed at the line's volume (silent while it is not listened to). */
    lines: z.record(z.string(), Meter).optional(),
  }),
  state: StationState,
  /** A call started (on: true) or ended (on: false: answered, timed out, or its caller left). */
  call: z.object({
    line: LineName,
    from: StationId,
    name: z.string(),
    on: z.boolean(),
    reason: z.enum(['answered', 'cancelled', 'timeout', 'left']).optional(),
    /** Who answered, for reason 'answered'. */
    by: z.object({ stationId: StationId, name: z.string() }).optional(),
  }),
  presence: z.object({ peers: z.array(PresencePeer) }),
  health: z.object({ peers: z.array(PeerHealth), speaker: SpeakerHealth.optional() }),
  devices: z.object({ selection: DeviceSelection }),
  notice: z.object({ level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  update: UpdateState,
} as const;

export const Contract = { commands: Commands, events: Events } as const;

export type CommandName = keyof typeof Commands;
export type EventName = keyof typeof Events;
export type CommandInput<C extends CommandName> = z.input<(typeof Commands)[C]['input']>;
export type CommandOutput<C extends CommandName> = z.output<(typeof Commands)[C]['output']>;
export type EventPayload<E extends EventName> = z.output<(typeof Events)[E]>;

export const COMMAND_NAMES = Object.keys(Commands) as CommandName[];
export const EVENT_NAMES = Object.keys(Events) as EventName[];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(Commands, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(Events, name);
}

// ---------------------------------------------------------------------------------------------
// Validation results and errors

export const ControlErrorCode = z.enum(['invalid', 'unknown-command', 'unknown-event', 'failed', 'forbidden']);
export type ControlErrorCode = z.infer<typeof ControlErrorCode>;

export const ControlError = z.object({
  code: ControlErrorCode,
  /** zod path of the first offending field, joined with '.'; absent when the whole payload is at fault. */
  field: z.string().optional(),
  message: z.string(),
});
export type ControlError = z.infer<typeof ControlError>;

export type Validation<T> = { ok: true; value: T } | { ok: false; error: ControlError };

function fromZod<T>(result: z.ZodSafeParseResult<T>, what: string): Validation<T> {
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
  const message = `${what}: ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid'}`;
  return { ok: false, error: field === undefined ? { code: 'invalid', message } : { code: 'invalid', field, message } };
}

/** Validates a command's input. */
export function validateCommand<C extends CommandName>(name: C, payload: unknown): Validation<ParsedCommandInput<C>>;
export function validateCommand(name: string, payload: unknown): Validation<unknown>;
export function validateCommand(name: string, payload: unknown): Validation<unknown> {
  if (!isCommandName(name)) return { ok: false, error: { code: 'unknown-command', message: `unknown command: ${String(name)}` } };
  const schema: z.ZodType = Commands[name].input;
  return fromZod(schema.safeParse(payload ?? {}), name);
}

/** Validates a command's output (the station's reply), so a faulty engine cannot feed a surface garbage. */
export function validateCommandOutput<C extends CommandName>(name: C, payload: unknown): Validation<CommandOutput<C>>;
export function validateCommandOutput(name: string, payload: unknown): Validation<unknown>;
export function validateCommandOutput(name: string, payload: unknown): Validation<unknown> {
  if (!isCommandName(name)) return { ok: false, error: { code: 'unknown-command', message: `unknown command: ${String(name)}` } };
  const schema: z.ZodType = Commands[name].output;
  return fromZod(schema.safeParse(payload), `${name} output`);
}

export function validateEvent<E extends EventName>(name: E, payload: unknown): Validation<EventPayload<E>>;
export function validateEvent(name: string, payload: unknown): Validation<unknown>;
export function validateEvent(name: string, payload: unknown): Validation<unknown> {
  if (!isEventName(name)) return { ok: false, error: { code: 'unknown-event', message: `unknown event: ${String(name)}` } };
  const schema: z.ZodType = Events[name];
  return fromZod(schema.safeParse(payload), `${name} event`);
}

/** A command input after validation (defaults applied). */
export type ParsedCommandInput<C extends CommandName> = z.output<(typeof Commands)[C]['input']>;

/** Thrown by a control surface client when the station answers with an error. */
export class ControlCommandError extends Error {
  readonly code: ControlErrorCode;
  readonly field: string | undefined;
  constructor(error: ControlError) {
    super(error.message);
    this.name = 'ControlCommandError';
    this.code = error.code;
    this.field = error.field;
  }
}

// ---------------------------------------------------------------------------------------------
// The station side and the control-surface side

export type EventListener = <E extends EventName>(name: E, payload: EventPayload<E>) => void;

/** Implemented by the engine facade; driven by every transport (IPC, WebSocket bridge). */
export interface StationControl {
  invoke<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>>;
  subscribe(listener: EventListener): () => void;
}

/** What the renderer (or any controller) sees, whatever the transport. */
export interface PartylineApi {
  invoke<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

// ---------------------------------------------------------------------------------------------
// WebSocket wire format (also used by external controllers; see docs/control-api.md)

export const WireRequest = z.object({
  id: z.union([z.string().min(1).max(64), z.number().int()]),
  cmd: z.string(),
  input: z.unknown().optional(),
});
export type WireRequest = z.infer<typeof WireRequest>;

export type WireResponse =
  | { id: string | number; ok: true; output: unknown }
  | { id: string | number | null; ok: false; error: ControlError };

export type WireEvent = { event: EventName; payload: unknown };

export const WireServerMessage = z.union([
  z.object({ id: z.union([z.string(), z.number()]), ok: z.literal(true), output: z.unknown() }),
  z.object({ id: z.union([z.string(), z.number(), z.null()]), ok: z.literal(false), error: ControlError }),
  z.object({ event: z.string(), payload: z.unknown() }),
]);

/** WebSocket close code for a missing or wrong token (mirrors HTTP 401). */
export const WS_CLOSE_UNAUTHORIZED = 4401;
/** The bridge's control endpoint path. */
export const CONTROL_PATH = '/control';
