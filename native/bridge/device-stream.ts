import { EventEmitter } from 'node:events';
import type { NativeAudioIO } from './binding';
import type { AudioDevice, Direction } from './devices';
import { BridgeError } from './errors';
import { openNative, quitWithin, SAMPLE_RATE, type ChunkMs } from './native-stream';
import { DeviceWatchdog, noteAbandoned } from './watchdog';

export interface DeviceStreamEvents {
  error: [BridgeError];
}

/**
 * What a microphone and a speaker share: opening one direction of a device, a watchdog for a device that stops
 * moving, and a stop that never hangs. Subclasses run their own read or write loop.
 */
export abstract class DeviceStream extends EventEmitter<DeviceStreamEvents> {
  readonly device: AudioDevice;
  readonly chunkSamples: number;
  protected readonly io: NativeAudioIO;
  protected running = true;
  private readonly watchdog: DeviceWatchdog;
  private loop: Promise<void> = Promise.resolve();

  protected constructor(
    private readonly direction: Direction,
    deviceId: string | null,
    sampleRate: number | undefined,
    chunkMs: ChunkMs | undefined,
    queueChunks: number,
  ) {
    super();
    const opened = openNative(direction, deviceId, sampleRate ?? SAMPLE_RATE, chunkMs ?? 10, queueChunks);
    this.io = opened.io;
    this.device = opened.device;
    this.chunkSamples = opened.chunkSamples;
    const verb = direction === 'input' ? 'capture from' : 'playback to';
    this.watchdog = new DeviceWatchdog(1000, (ms) =>
      this.emit('error', new BridgeError('device-lost', `${verb} "${this.device.id}" stalled for ${Math.round(ms)} ms (device unplugged or taken?)`, this.field)),
    );
  }

  /** The option naming this stream's device, for errors. */
  protected get field(): 'inputId' | 'outputId' {
    return this.direction === 'input' ? 'inputId' : 'outputId';
  }

  /** Subclasses call this at the end of their constructor. */
  protected begin(loop: () => Promise<void>): void {
    this.io.start();
    this.loop = loop();
  }

  protected progress(): void {
    this.watchdog.progress();
  }

  protected fail(error: BridgeError): void {
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
