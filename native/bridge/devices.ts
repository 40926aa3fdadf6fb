import { loadNaudiodon, loadPortAudio, type NativeDeviceInfo, type NativeHostApis, type SoundServerDevice } from './binding';
import { BridgeError } from './errors';

export type Direction = 'input' | 'output';

export interface AudioDevice {
  /** Stable across restarts: PortAudio's numeric index is not (it shifts when devices come and go). */
  id: string;
  name: string;
  hostApi: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
}

export interface DeviceList {
  inputs: AudioDevice[];
  outputs: AudioDevice[];
  defaultInputId: string | null;
  defaultOutputId: string | null;
}

/**
 * What PortAudio reports in one enumeration, as naudiodon's getDevices() and getHostAPIs() give it, and the sound
 * server's own devices when one answers (see SOUND_SERVER_HOST).
 */
export interface DeviceEnumeration {
  devices: NativeDeviceInfo[];
  hostApis: NativeHostApis;
  soundServer?: { sources: SoundServerDevice[]; sinks: SoundServerDevice[] };
  /** Which of the scanning process's PortAudio enumerations this is (device-scanner.ts): equal numbers, one enumeration. */
  enumeration?: number;
}

/**
 * The host name of devices reached through PulseAudio's native protocol (PipeWire's pulse server too) rather than
 * PortAudio: ids `PulseAudio:<the server's sink or source name>#0`. On that path the server asks for each chunk as
 * it needs it, where PortAudio goes through ALSA's pulse plugin and its extra buffer (see native/portaudio's
 * pulse_host.h for the figures).
 */
export const SOUND_SERVER_HOST = 'PulseAudio';

interface Indexed {
  device: AudioDevice;
  /** -1 for a sound-server device. */
  portAudioIndex: number;
  /** The sink or source name a sound-server device opens with. */
  serverName?: string;
}

export interface ResolvedDevice {
  /** PortAudio's index, or -1 for a sound-server device. */
  index: number;
  device: AudioDevice;
  serverName?: string;
}

/**
 * One enumeration with stable ids. The indices are only good for the PortAudio that enumerated: a table from
 * another process (device-scan.ts) tells which devices exist, never how to open them here.
 */
export interface DeviceTable {
  all: Indexed[];
  defaultInput: number;
  defaultOutput: number;
  /** When a sound server answers, its defaults are the system's (they win over PortAudio's indices). */
  serverDefaults?: boolean;
  /** The scanning process's enumeration it came from, if it came from one (DeviceEnumeration.enumeration). */
  enumeration?: number;
}

/**
 * The names libpulse resolves to the server's default source and sink at open: they follow the choice made in the
 * desktop's sound settings.
 */
export const SERVER_DEFAULT_NAMES = { input: '@DEFAULT_SOURCE@', output: '@DEFAULT_SINK@' } as const;

/** `hostApi:name#n`, where n counts earlier devices with the same host API and name (two identical USB headsets). */
export function deviceTable({ devices, hostApis, soundServer, enumeration }: DeviceEnumeration): DeviceTable {
  const seen = new Map<string, number>();
  const all: Indexed[] = devices.map((d) => {
    const key = `${d.hostAPIName}:${d.name}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return {
      portAudioIndex: d.id,
      device: {
        id: `${key}#${n}`,
        name: d.name,
        hostApi: d.hostAPIName,
        maxInputChannels: d.maxInputChannels,
        maxOutputChannels: d.maxOutputChannels,
        defaultSampleRate: d.defaultSampleRate,
      },
    };
  });
  const server = (list: SoundServerDevice[], input: boolean): Indexed[] =>
    list.map((d) => ({ portAudioIndex: -1, serverName: d.name, device: serverDevice(d.name, d.description, input) }));
  if (soundServer) {
    all.push(
      ...server([{ name: SERVER_DEFAULT_NAMES.input, description: describeServerName(SERVER_DEFAULT_NAMES.input) }, ...soundServer.sources], true),
      ...server([{ name: SERVER_DEFAULT_NAMES.output, description: describeServerName(SERVER_DEFAULT_NAMES.output) }, ...soundServer.sinks], false),
    );
  }
  const host = hostApis.HostAPIs.find((h) => h.id === hostApis.defaultHostAPI);
  return { all, defaultInput: host?.defaultInput ?? -1, defaultOutput: host?.defaultOutput ?? -1, ...(soundServer ? { serverDefaults: true } : {}), ...(enumeration !== undefined ? { enumeration } : {}) };
}

function serverDevice(name: string, description: string, input: boolean): AudioDevice {
  return {
    id: `${SOUND_SERVER_HOST}:${name}#0`,
    name: description,
    hostApi: SOUND_SERVER_HOST,
    maxInputChannels: input ? 1 : 0,
    maxOutputChannels: input ? 0 : 1,
    defaultSampleRate: 48000,
  };
}

/** The sink or source name in a sound-server device id, or undefined for any other id. */
export function serverNameOf(id: string | null): string | undefined {
  const m = id === null ? null : /^PulseAudio:(.+)#0$/.exec(id);
  return m ? m[1] : undefined;
}

/**
 * The sound server's sources and sinks, or undefined when none answers (no libpulse, no server, or not Linux).
 * Waits for the server up to libpulse's deadline (3 s): for listings, never on a path that feeds the speaker.
 */
export function listSoundServer(): DeviceEnumeration['soundServer'] {
  const pa = loadPortAudio();
  if (typeof pa.listPulse !== 'function') return undefined;
  try {
    return { sources: pa.listPulse(true), sinks: pa.listPulse(false) };
  } catch {
    return undefined;
  }
}

/**
 * This process's PortAudio. While any stream is open PortAudio stays initialized and this is the table it built
 * when the first stream opened: instant, but blind to devices plugged in since (see device-scan.ts).
 */
function enumerate(withSoundServer = false): DeviceTable {
  const binding = loadNaudiodon();
  const soundServer = withSoundServer ? listSoundServer() : undefined;
  return deviceTable({ devices: binding.getDevices(), hostApis: binding.getHostAPIs(), ...(soundServer ? { soundServer } : {}) });
}

export function deviceList(table: DeviceTable): DeviceList {
  const { all } = table;
  return {
    inputs: all.filter((d) => d.device.maxInputChannels > 0).map((d) => d.device),
    outputs: all.filter((d) => d.device.maxOutputChannels > 0).map((d) => d.device),
    defaultInputId: defaultOf(table, 'input')?.device.id ?? null,
    defaultOutputId: defaultOf(table, 'output')?.device.id ?? null,
  };
}

/** The system default: the sound server's when one answers, else PortAudio's default host's. */
function defaultOf(table: DeviceTable, direction: Direction): Indexed | undefined {
  if (table.serverDefaults) return table.all.find((d) => d.serverName === SERVER_DEFAULT_NAMES[direction]);
  const index = direction === 'input' ? table.defaultInput : table.defaultOutput;
  return table.all.find((d) => d.portAudioIndex === index && d.serverName === undefined);
}

/**
 * Maps a stable id (or null for the system default) to the table's index.
 * `field` is the option name reported when the id is unknown.
 */
export function findDevice(table: DeviceTable, id: string | null, direction: Direction, field: string): ResolvedDevice {
  const usable = table.all.filter((d) => (direction === 'input' ? d.device.maxInputChannels : d.device.maxOutputChannels) > 0);
  if (id === null) {
    const found = defaultOf(table, direction) ?? usable[0];
    if (!found) throw new BridgeError('no-device', `no ${direction} device is available`, field);
    return { index: found.portAudioIndex, device: found.device, ...(found.serverName !== undefined ? { serverName: found.serverName } : {}) };
  }
  const found = usable.find((d) => d.device.id === id);
  if (!found) {
    const known = usable.map((d) => d.device.id).join(', ') || 'none';
    throw new BridgeError('unknown-device', `${field}: no ${direction} device "${id}" (known: ${known})`, field);
  }
  return { index: found.portAudioIndex, device: found.device, ...(found.serverName !== undefined ? { serverName: found.serverName } : {}) };
}

/** Synchronous, on the caller's thread: a full scan (~70 ms on ALSA) when no stream holds PortAudio, and the sound server's devices. */
export function listDevices(): DeviceList {
  return deviceList(enumerate(true));
}

/**
 * Resolves an id against this process's PortAudio, whose indices are what a stream opens with. A sound-server id
 * resolves without asking the server (a hung one would hold this thread): opening it finds out whether it exists.
 */
export function resolveDevice(id: string | null, direction: Direction, field: string): ResolvedDevice {
  const serverName = id === null && soundServerAnswers() ? SERVER_DEFAULT_NAMES[direction] : serverNameOf(id);
  if (serverName !== undefined) return { index: -1, device: serverDevice(serverName, describeServerName(serverName), direction === 'input'), serverName };
  return findDevice(enumerate(), id, direction, field);
}

function describeServerName(name: string): string {
  return name === SERVER_DEFAULT_NAMES.input ? 'Default microphone (sound server)' : name === SERVER_DEFAULT_NAMES.output ? 'Default speaker (sound server)' : name;
}

/** Whether a sound server answers here now (a connection and a listing: a few ms; a hung server, up to 3 s). */
function soundServerAnswers(): boolean {
  const pa = loadPortAudio();
  if (typeof pa.listPulse !== 'function') return false;
  try {
    pa.listPulse(false);
    return true;
  } catch {
    return false;
  }
}
