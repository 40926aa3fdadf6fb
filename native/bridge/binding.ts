import * as path from 'node:path';
import { BridgeError } from './errors';

/**
 * naudiodon's native binding, loaded without naudiodon's index.js, for its device list and the libportaudio it
 * ships. Streams do not use it (see native/portaudio: its callback waits on JavaScript).
 *
 * Why not the index.js: it registers `segfault-handler` (a NAN module that is not context-aware, is not
 * ABI-stable across Node and Electron, and writes crash.log into the working directory), and it wraps the
 * binding in Node streams whose default 16 KB high-water marks add up to 170 ms of latency. The binding
 * itself is N-API, so it loads in Node 20, Node 24 and Electron alike.
 */
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

/** A sink or source of the sound server, as listPulse() reports it. */
export interface SoundServerDevice {
  /** The server's name for it: stable, what a stream opens with. */
  name: string;
  description: string;
}

/** A stream handle of our PortAudio binding (native/portaudio): opaque, type-tagged on the native side. */
export type RingHandle = { readonly __ring: unique symbol };

export interface RingStats {
  /** Frames in the ring. */
  fill: number;
  callbacks: number;
  /** Speaker: callbacks that found the ring short and played silence for the rest. */
  underruns: number;
  /** Microphone: chunks dropped because the ring was full. */
  overruns: number;
  /** Under- or overflows PortAudio reported from the host API itself. */
  xruns: number;
  /** Ticks not delivered because JavaScript already had some queued. */
  missedTicks: number;
  /** Speaker: the least the ring held after a device callback since the previous stats() (the fill if none ran). */
  lowWater: number;
  /** Speaker: the most frames one device callback took since the previous stats(). */
  maxRequest: number;
  /** How long the oldest device callback since the previous stats() waited for it, ms (0 if none ran). */
  tickLatencyMs: number;
  /** The stream stopped by itself: the device went away. */
  finished: boolean;
  /** Linux: the kernel's id of the thread the device calls back on, 0 until the first callback (elsewhere 0). */
  threadId: number;
  /** The buffering the host API granted beyond the ring, as PortAudio reports it. */
  deviceLatencyMs?: number;
  /**
   * Speaker on a sound server: what the server asked for and the ring has not yet given, frames, left unwritten while
   * the server still holds enough. The ring's next audio goes there first.
   */
  deviceOwedFrames?: number;
}

/** One direction of a device whose callback never waits: it works on a ring and pokes JavaScript after each chunk. */
export interface PortAudioBinding {
  /** A suggested latency of 0 takes the device's default low latency. */
  open(
    input: boolean,
    deviceIndex: number,
    sampleRate: number,
    chunkFrames: number,
    ringChunks: number,
    onTick: () => void,
    suggestedLatencySeconds: number,
    /** Frames per device callback, at most a chunk; 0 for a chunk. */
    periodFrames: number,
  ): RingHandle;
  start(handle: RingHandle): void;
  /** All the samples, or none (returns 0) when they do not fit. */
  write(handle: RingHandle, samples: Int16Array): number;
  /** A whole `into`, or nothing (returns 0) when fewer frames are there. */
  read(handle: RingHandle, into: Int16Array): number;
  fill(handle: RingHandle): number;
  stats(handle: RingHandle): RingStats;
  /** Resolves once PortAudio has let go of the device; an unplugged device may never let it resolve. */
  close(handle: RingHandle): Promise<void>;
  /**
   * Linux only: the same ring on PulseAudio's native protocol. `deviceName` is a sink or source name (null: the
   * server's default); the server buffers `latencyFrames` on its side and asks for `periodFrames` at a time.
   * Throws with code 'no-sound-server', 'no-such-device' or 'open-failed'.
   */
  openPulse?(
    input: boolean,
    deviceName: string | null,
    sampleRate: number,
    chunkFrames: number,
    ringChunks: number,
    onTick: () => void,
    latencyFrames: number,
    periodFrames: number,
  ): RingHandle;
  /** Linux only: the server's sources (input) or sinks; throws with code 'no-sound-server'. */
  listPulse?(input: boolean): SoundServerDevice[];
  /** Linux only: the kernel's id of the calling thread. */
  threadId?(): number;
  /** Linux only: gives a sound server what it asked for and the ring could not give then (deviceOwedFrames). */
  serveOwed?(handle: RingHandle): void;
  /** Linux only: sets RLIMIT_RTTIME for the process (hard `usec`, soft half); throws with code 'rlimit-refused'. */
  limitRealtime?(usec: number): void;
  /** Linux only: the thread goes back to SCHED_OTHER at the first SIGXCPU; throws with code 'guard-refused'. */
  guardRealtime?(tid: number): void;
  /** Linux only: guarded threads put back to SCHED_OTHER so far. */
  realtimeDemotions?(): number;
  /** Linux: SCHED_RR for a thread of this process, set directly; throws `realtime-refused` where not allowed. */
  makeRealtime?(tid: number, priority: number): void;
  /** Linux: a thread of this process back to SCHED_OTHER (its nice value stays); throws `realtime-refused`. */
  makeOrdinary?(tid: number): void;
}

let portAudio: PortAudioBinding | undefined;

export function portAudioBindingPath(): string {
  // Built by `node-gyp rebuild --directory=native/portaudio` (the root package's install script).
  return path.join(__dirname, '..', 'portaudio', 'build', 'Release', 'partyline_portaudio.node').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
}

export function loadPortAudio(): PortAudioBinding {
  if (portAudio) return portAudio;
  // naudiodon's library first: our binding links the libportaudio.so.2 it ships.
  loadNaudiodon();
  const file = portAudioBindingPath();
  try {
    portAudio = require(file) as PortAudioBinding;
  } catch (err) {
    throw new BridgeError('native-missing', `cannot load the PortAudio binding at ${file}: ${(err as Error).message}`);
  }
  return portAudio;
}
