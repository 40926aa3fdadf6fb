import { BridgeError } from './errors';
import { DeviceStream } from './device-stream';
import { parseStatus, type ChunkMs } from './native-stream';

/** What the speaker plays. Called on the device clock; it must answer at once (concealment or silence if it has nothing). */
export interface PlaybackSource {
  pull(samples: number): Int16Array;
}

export interface PlaybackOptions {
  deviceId: string | null;
  sampleRate?: number;
  chunkMs?: ChunkMs;
  /**
   * Chunks queued ahead of the device. Each one is chunkMs of latency; fewer than 2 lets a busy event loop starve
   * the device.
   */
  queueChunks?: number;
  source: PlaybackSource;
}

export interface PlaybackCounters {
  chunks: number;
  underruns: number;
}

/**
 * A speaker driven by the device clock: every time the device takes a chunk, the bridge pulls the next one from
 * the source. The device is never left waiting for the engine.
 */
export class PlaybackStream extends DeviceStream {
  readonly counters: PlaybackCounters = { chunks: 0, underruns: 0 };

  constructor(options: PlaybackOptions) {
    super('output', options.deviceId, options.sampleRate, options.chunkMs, options.queueChunks ?? 2);
    this.begin(() => this.run(options.source));
  }

  private async run(source: PlaybackSource): Promise<void> {
    const chunk = Buffer.alloc(this.chunkSamples * 2);
    const view = new Int16Array(chunk.buffer, chunk.byteOffset, this.chunkSamples);
    while (this.running) {
      const pcm = source.pull(this.chunkSamples);
      view.set(pcm.length > this.chunkSamples ? pcm.subarray(0, this.chunkSamples) : pcm);
      if (pcm.length < this.chunkSamples) view.fill(0, pcm.length);
      let status: string | undefined;
      try {
        // The native side copies the chunk, so the same buffer is reused for the next one.
        status = await this.io.write(chunk);
      } catch (err) {
        this.fail(new BridgeError('device-lost', `playback to "${this.device.id}" failed: ${(err as Error).message}`, this.field));
        return;
      }
      this.progress();
      this.counters.chunks++;
      if (status !== undefined && parseStatus(status).underflow) this.counters.underruns++;
    }
  }
}
