import { EventEmitter } from 'node:events';
import type { AudioDevice } from './devices';
import { BridgeError } from './errors';
import { openNative, parseStatus, quitWithin, SAMPLE_RATE, type ChunkMs } from './native-stream';
import { DeviceWatchdog, noteAbandoned } from './watchdog';

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

export interface PlaybackEvents {
  error: [BridgeError];
}

/**
 * A speaker driven by the device clock: every time the device takes a chunk, the bridge pulls the next one from
 * the source. The device is never left waiting for the engine.
 */
export class PlaybackStream extends EventEmitter<PlaybackEvents> {
  readonly device: AudioDevice;
  readonly chunkSamples: number;
  readonly counters: PlaybackCounters = { chunks: 0, underruns: 0 };
  private running = true;
  private readonly loop: Promise<void>;
  private readonly io;
  private readonly watchdog: DeviceWatchdog;

  constructor(options: PlaybackOptions) {
    super();
    const opened = openNative('output', options.deviceId, options.sampleRate ?? SAMPLE_RATE, options.chunkMs ?? 10, options.queueChunks ?? 2);
    this.io = opened.io;
    this.device = opened.device;
    this.chunkSamples = opened.chunkSamples;
    this.watchdog = new DeviceWatchdog(1000, (ms) =>
      this.emit('error', new BridgeError('device-lost', `playback to "${this.device.id}" stalled for ${Math.round(ms)} ms (device unplugged or taken?)`, 'outputId')),
    );
    this.io.start();
    this.loop = this.run(options.source);
  }

  private async run(source: PlaybackSource): Promise<void> {
    const chunk = Buffer.alloc(this.chunkSamples * 2);
    const view = new Int16Array(chunk.buffer, chunk.byteOffset, this.chunkSamples);
    while (this.running) {
      const pcm = source.pull(this.chunkSamples);
      view.set(pcm.length === this.chunkSamples ? pcm : pcm.subarray(0, this.chunkSamples));
      if (pcm.length < this.chunkSamples) view.fill(0, pcm.length);
      let status: string | undefined;
      try {
        // The native side copies the chunk, so the same buffer is reused for the next one.
        status = await this.io.write(chunk);
      } catch (err) {
        this.running = false;
        this.watchdog.dispose();
        this.emit('error', new BridgeError('device-lost', `playback to "${this.device.id}" failed: ${(err as Error).message}`, 'outputId'));
        return;
      }
      this.watchdog.progress();
      this.counters.chunks++;
      if (status !== undefined && parseStatus(status).underflow) this.counters.underruns++;
    }
  }

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
