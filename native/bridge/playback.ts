import { setTimeout as delay } from 'node:timers/promises';
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
  /**
   * How long after the device takes a chunk the next one is pulled from the source (default 0). The chunk still
   * reaches the device in time (the queue holds another), and audio that arrives meanwhile (a network packet landing
   * just after the device's tick) makes this chunk instead of waiting a whole chunk for the next. It costs a timer per
   * chunk: on a busy event loop timers fire late and the device runs dry (with half a chunk, the control-flood test
   * heard 30 to 50 silent 10 ms frames), so it is off unless asked for.
   */
  pullDelayMs?: number;
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
    // Checked before super() opens the device, so a bad option leaves nothing open.
    const pullDelayMs = checkPullDelay(options);
    super('output', options.deviceId, options.sampleRate, options.chunkMs, options.queueChunks ?? 2);
    this.begin(() => this.run(options.source, pullDelayMs));
  }

  private async run(source: PlaybackSource, pullDelayMs: number): Promise<void> {
    const chunk = Buffer.alloc(this.chunkSamples * 2);
    const view = new Int16Array(chunk.buffer, chunk.byteOffset, this.chunkSamples);
    while (this.running) {
      if (pullDelayMs > 0) await delay(pullDelayMs);
      if (!this.running) return;
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

/** The pull may wait at most half the queue: the other half is the margin against a busy event loop. */
function checkPullDelay(options: PlaybackOptions): number {
  const chunkMs = options.chunkMs ?? 10;
  const pullDelayMs = options.pullDelayMs ?? 0;
  const queueMs = (options.queueChunks ?? 2) * chunkMs;
  if (!Number.isFinite(pullDelayMs) || pullDelayMs < 0 || pullDelayMs > queueMs / 2) {
    throw new BridgeError('unsupported-format', `pullDelayMs: ${pullDelayMs} must be between 0 and half the queue (${queueMs / 2} ms)`, 'pullDelayMs');
  }
  return pullDelayMs;
}
