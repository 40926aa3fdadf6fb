import * as path from 'node:path';
import { BridgeError } from './errors';

/**
 * naudiodon's native binding, loaded without naudiodon's index.js.
 *
 * Why not the index.js: it registers `segfault-handler` (a NAN module that is not context-aware, is not
 * ABI-stable across Node and Electron, and writes crash.log into the working directory), and it wraps the
 * binding in Node streams whose default 16 KB high-water marks add up to 170 ms of latency. The binding
 * itself is N-API, so it loads in Node 20, Node 24 and Electron alike.
 */
export interface NativeStreamOptions {
  deviceId: number;
  sampleRate: number;
  channelCount: number;
  /** 16 = signed 16-bit. naudiodon's default is 8-bit, so we always pass it. */
  sampleFormat: 16;
  framesPerBuffer: number;
  /** Chunks the native queue holds before the PortAudio callback waits on it. */
  maxQueue: number;
  /** true: PortAudio status flags (under/overflow) come back to us as strings instead of being printed. */
  closeOnError: boolean;
}

export interface NativeReadResult {
  buf?: Buffer;
  err?: string;
  finished?: boolean;
}

export interface NativeAudioIO {
  start(): void;
  read(bytes: number): Promise<NativeReadResult>;
  /** Resolves when the chunk is queued; with a string when PortAudio raised a status flag meanwhile. */
  write(chunk: Buffer): Promise<string | undefined>;
  quit(flag: 'WAIT' | 'ABORT'): Promise<void>;
}

export interface NativeDeviceInfo {
  id: number;
  name: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
  defaultLowInputLatency: number;
  defaultLowOutputLatency: number;
  defaultHighInputLatency: number;
  defaultHighOutputLatency: number;
  hostAPIName: string;
}

export interface NativeHostApis {
  defaultHostAPI: number;
  HostAPIs: { id: number; name: string; type: string; deviceCount: number; defaultInput: number; defaultOutput: number }[];
}

export interface NaudiodonBinding {
  getDevices(): NativeDeviceInfo[];
  getHostAPIs(): NativeHostApis;
  create(options: { inOptions?: NativeStreamOptions; outOptions?: NativeStreamOptions }): NativeAudioIO;
}

let cached: NaudiodonBinding | undefined;

export function naudiodonBindingPath(): string {
  const root = path.dirname(require.resolve('naudiodon/package.json'));
  // Inside a packaged app the .node lives in app.asar.unpacked; dlopen cannot read from the archive.
  return path.join(root, 'build', 'Release', 'naudiodon.node').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
}

export function loadNaudiodon(): NaudiodonBinding {
  if (cached) return cached;
  const file = naudiodonBindingPath();
  try {
    cached = require(file) as NaudiodonBinding;
  } catch (err) {
    throw new BridgeError('native-missing', `cannot load the PortAudio binding at ${file}: ${(err as Error).message}`);
  }
  return cached;
}
