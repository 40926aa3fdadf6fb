import { EventEmitter } from 'node:events';
import type { AudioDevice } from './devices';
import { BridgeError } from './errors';
import { openNative, parseStatus, quitWithin, SAMPLE_RATE, type ChunkMs } from './native-stream';
import { DeviceWatchdog, noteAbandoned } from './watchdog';

export interface CaptureOptions {
  /** Stable device id from listDevices(), or null for the system default. */
  deviceId: string | null;
  sampleRate?: number;
  chunkMs?: ChunkMs;
  /** Chunks the native side may hold while JavaScript is busy; more means fewer overruns, never more latency in steady state. */
  queueChunks?: number;
  /** Called once per chunk with mono samples. The array is only valid during the call. */
  onChunk: (pcm: Int16Array) => void;
}

export interface CaptureCounters {
  chunks: number;
  overruns: number;
}

export interface CaptureEvents {
  error: [BridgeError];
}

/** A microphone: reads fixed-size chunks from the device as fast as the device produces them. */
export class CaptureStream extends EventEmitter<CaptureEvents> {
  readonly device: AudioDevice;
  readonly chunkSamples: number;
  readonly counters: CaptureCounters = { chunks: 0, overruns: 0 };
  private running = true;
  private readonly loop: Promise<void>;
  private readonly io;
  private readonly watchdog: DeviceWatchdog;

  constructor(options: CaptureOptions) {
    super();
    const opened = openNative('input', options.deviceId, options.sampleRate ?? SAMPLE_RATE, options.chunkMs ?? 10, options.queueChunks ?? 8);
    this.io = opened.io;
    this.device = opened.device;
    this.chunkSamples = opened.chunkSamples;
    this.watchdog = new DeviceWatchdog(1000, (ms) =>
      this.emit('error', new BridgeError('device-lost', `capture from "${this.device.id}" stalled for ${Math.round(ms)} ms (device unplugged or taken?)`, 'inputId')),
    );
    this.io.start();
    this.loop = this.run(options.onChunk);
  }

  private async run(onChunk: (pcm: Int16Array) => void): Promise<void> {
    const bytes = this.chunkSamples * 2;
    const aligned = new Int16Array(this.chunkSamples);
    while (this.running) {
      let result;
      try {
        result = await this.io.read(bytes);
      } catch (err) {
        this.fail(new BridgeError('device-lost', `capture from "${this.device.id}" failed: ${(err as Error).message}`, 'inputId'));
        return;
      }
      this.watchdog.progress();
      if (!this.running || result.finished) return;
      if (result.err !== undefined) {
        // naudiodon drops the chunk that carried the status flag; it is counted, not hidden.
        if (parseStatus(result.err).overflow) this.counters.overruns++;
        continue;
      }
      const buf = result.buf;
      if (!buf || buf.length !== bytes) continue;
      this.counters.chunks++;
      const pcm = buf.byteOffset % 2 === 0 ? new Int16Array(buf.buffer, buf.byteOffset, this.chunkSamples) : copyInto(aligned, buf);
      onChunk(pcm);
    }
  }

  private fail(error: BridgeError): void {
    this.running = false;
    this.watchdog.dispose();
    this.emit('error', error);
  }

  /** Never hangs: an unplugged device is abandoned after a deadline. */
  async stop(): Promise<'stopped' | 'abandoned'> {
    if (!this.running) return 'stopped';
    this.running = false;
    this.watchdog.dispose();
    const outcome = await quitWithin(this.io, 1000);
    if (outcome === 'stopped') await this.loop;
    else noteAbandoned();
    return outcome;
  }
}

function copyInto(target: Int16Array, buf: Buffer): Int16Array {
  for (let i = 0; i < target.length; i++) target[i] = buf.readInt16LE(i * 2);
  return target;
}
