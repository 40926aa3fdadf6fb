import { BridgeError } from './errors';
import { DeviceStream } from './device-stream';
import { parseStatus, type ChunkMs } from './native-stream';

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

/** A microphone: reads fixed-size chunks from the device as fast as the device produces them. */
export class CaptureStream extends DeviceStream {
  readonly counters: CaptureCounters = { chunks: 0, overruns: 0 };

  constructor(options: CaptureOptions) {
    super('input', options.deviceId, options.sampleRate, options.chunkMs, options.queueChunks ?? 8);
    this.begin(() => this.run(options.onChunk));
  }

  private async run(onChunk: (pcm: Int16Array) => void): Promise<void> {
    const bytes = this.chunkSamples * 2;
    const aligned = new Int16Array(this.chunkSamples);
    while (this.running) {
      let result;
      try {
        result = await this.io.read(bytes);
      } catch (err) {
        this.fail(new BridgeError('device-lost', `capture from "${this.device.id}" failed: ${(err as Error).message}`, this.field));
        return;
      }
      this.progress();
      if (!this.running || result.finished) return;
      if (result.err !== undefined) {
        // naudiodon drops the chunk that carried the status flag; it is counted, not hidden.
        if (parseStatus(result.err).overflow) this.counters.overruns++;
        continue;
      }
      const buf = result.buf;
      if (!buf || buf.length !== bytes) continue;
      this.counters.chunks++;
      onChunk(buf.byteOffset % 2 === 0 ? new Int16Array(buf.buffer, buf.byteOffset, this.chunkSamples) : copyInto(aligned, buf));
    }
  }
}

function copyInto(target: Int16Array, buf: Buffer): Int16Array {
  for (let i = 0; i < target.length; i++) target[i] = buf.readInt16LE(i * 2);
  return target;
}
