import { loadNaudiodon, type NativeDeviceInfo } from './binding';
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

interface Indexed {
  device: AudioDevice;
  portAudioIndex: number;
}

/** `hostApi:name#n`, where n counts earlier devices with the same host API and name (two identical USB headsets). */
function stableIds(raw: NativeDeviceInfo[]): Indexed[] {
  const seen = new Map<string, number>();
  return raw.map((d) => {
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
}

function enumerate(): { all: Indexed[]; defaultInput: number; defaultOutput: number } {
  const binding = loadNaudiodon();
  const all = stableIds(binding.getDevices());
  const apis = binding.getHostAPIs();
  const host = apis.HostAPIs.find((h) => h.id === apis.defaultHostAPI);
  return { all, defaultInput: host?.defaultInput ?? -1, defaultOutput: host?.defaultOutput ?? -1 };
}

export function listDevices(): DeviceList {
  const { all, defaultInput, defaultOutput } = enumerate();
  const idOf = (index: number) => all.find((d) => d.portAudioIndex === index)?.device.id ?? null;
  return {
    inputs: all.filter((d) => d.device.maxInputChannels > 0).map((d) => d.device),
    outputs: all.filter((d) => d.device.maxOutputChannels > 0).map((d) => d.device),
    defaultInputId: idOf(defaultInput),
    defaultOutputId: idOf(defaultOutput),
  };
}

/**
 * Maps a stable id (or null for the system default) to PortAudio's index for this enumeration.
 * `field` is the option name reported when the id is unknown.
 */
export function resolveDevice(id: string | null, direction: Direction, field: string): { index: number; device: AudioDevice } {
  const { all, defaultInput, defaultOutput } = enumerate();
  const usable = all.filter((d) => (direction === 'input' ? d.device.maxInputChannels : d.device.maxOutputChannels) > 0);
  if (id === null) {
    const index = direction === 'input' ? defaultInput : defaultOutput;
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
