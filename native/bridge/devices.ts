import { loadNaudiodon, type NativeDeviceInfo, type NativeHostApis } from './binding';
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

/** What PortAudio reports in one enumeration, as naudiodon's getDevices() and getHostAPIs() give it. */
export interface DeviceEnumeration {
  devices: NativeDeviceInfo[];
  hostApis: NativeHostApis;
}

interface Indexed {
  device: AudioDevice;
  portAudioIndex: number;
}

/**
 * One enumeration with stable ids. The indices are only good for the PortAudio that enumerated: a table from
 * another process (device-scan.ts) tells which devices exist, never how to open them here.
 */
export interface DeviceTable {
  all: Indexed[];
  defaultInput: number;
  defaultOutput: number;
}

/** `hostApi:name#n`, where n counts earlier devices with the same host API and name (two identical USB headsets). */
export function deviceTable({ devices, hostApis }: DeviceEnumeration): DeviceTable {
  const seen = new Map<string, number>();
  const all = devices.map((d) => {
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
  const host = hostApis.HostAPIs.find((h) => h.id === hostApis.defaultHostAPI);
  return { all, defaultInput: host?.defaultInput ?? -1, defaultOutput: host?.defaultOutput ?? -1 };
}

/**
 * This process's PortAudio. While any stream is open PortAudio stays initialized and this is the table it built
 * when the first stream opened: instant, but blind to devices plugged in since (see device-scan.ts).
 */
function enumerate(): DeviceTable {
  const binding = loadNaudiodon();
  return deviceTable({ devices: binding.getDevices(), hostApis: binding.getHostAPIs() });
}

export function deviceList({ all, defaultInput, defaultOutput }: DeviceTable): DeviceList {
  const idOf = (index: number) => all.find((d) => d.portAudioIndex === index)?.device.id ?? null;
  return {
    inputs: all.filter((d) => d.device.maxInputChannels > 0).map((d) => d.device),
    outputs: all.filter((d) => d.device.maxOutputChannels > 0).map((d) => d.device),
    defaultInputId: idOf(defaultInput),
    defaultOutputId: idOf(defaultOutput),
  };
}

/**
 * Maps a stable id (or null for the system default) to the table's index.
 * `field` is the option name reported when the id is unknown.
 */
export function findDevice(table: DeviceTable, id: string | null, direction: Direction, field: string): { index: number; device: AudioDevice } {
  const usable = table.all.filter((d) => (direction === 'input' ? d.device.maxInputChannels : d.device.maxOutputChannels) > 0);
  if (id === null) {
    const index = direction === 'input' ? table.defaultInput : table.defaultOutput;
    const found = usable.find((d) => d.portAudioIndex === index) ?? usable[0];
    if (!found) throw new BridgeError('no-device', `no ${direction} device is available`, field);
    return { index: found.portAudioIndex, device: found.device };
  }
  const found = usable.find((d) => d.device.id === id);
  if (!found) {
    const known = usable.map((d) => d.device.id).join(', ') || 'none';
    throw new BridgeError('unknown-device', `${field}: no ${direction} device "${id}" (known: ${known})`, field);
  }
  return { index: found.portAudioIndex, device: found.device };
}

/** Synchronous, on the caller's thread: a full scan (~70 ms on ALSA) when no stream holds PortAudio. */
export function listDevices(): DeviceList {
  return deviceList(enumerate());
}

/** Resolves an id against this process's PortAudio, whose indices are what a stream opens with. */
export function resolveDevice(id: string | null, direction: Direction, field: string): { index: number; device: AudioDevice } {
  return findDevice(enumerate(), id, direction, field);
}
