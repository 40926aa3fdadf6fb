import { EventEmitter } from 'node:events';
import type { PortAudioBinding, RingHandle, RingStats } from './binding';
import type { AudioDevice, Direction } from './devices';
import { BridgeError } from './errors';
import { closeWithin, openNative, SAMPLE_RATE, type ChunkMs } from './native-stream';
import { DeviceWatchdog, noteAbandoned } from './watchdog';

export interface DeviceStreamEvents {
  error: [BridgeError];
}

/**
 * A device that moved and then stops for this long is gone (unplugged, or taken by another program): short enough that
 * the station shows it within a second, long enough for the clumps of ALSA's pulse plugin (tens of ms).
 */
const STALL_MS = 800;
/** How long a device may take for its first period: slow devices (see DeviceWatchdog) are waited for. */
const START_MS = 6000;

/**
 * What a microphone and a speaker share: one direction of a device behind a ring, serviced on the device's clock
 * (the native callback ticks after every chunk), a watchdog for a device that stops moving, and a stop that never
 * hangs. Subclasses fill or drain the ring on each tick.
 */
export abstract class DeviceStream extends EventEmitter<DeviceStreamEvents> {
  readonly device: AudioDevice;
  readonly chunkSamples: number;
  /** Frames per device callback: at most a chunk. */
  readonly periodSamples: number;
  protected readonly pa: PortAudioBinding;
  protected readonly handle: RingHandle;
  protected running = true;
  /** The kernel's id of the thread the device calls back on, once it has (Linux; 0 elsewhere or before). */
  deviceThreadId = 0;
  private readonly watchdog: DeviceWatchdog;

  protected constructor(
    private readonly direction: Direction,
    deviceId: string | null,
    sampleRate: number | undefined,
    chunkMs: ChunkMs | undefined,
    ringChunks: number,
  ) {
    super();
    const opened = openNative(direction, deviceId, sampleRate ?? SAMPLE_RATE, chunkMs ?? 10, ringChunks, direction === 'output' ? () => this.tickAfterIo() : () => this.tick());
    this.pa = opened.pa;
    this.handle = opened.handle;
    this.device = opened.device;
    this.chunkSamples = opened.chunkSamples;
    this.periodSamples = opened.periodSamples;
    this.watchdog = new DeviceWatchdog(
      STALL_MS,
      (ms, started) =>
        this.fail(new BridgeError('device-lost', `${this.verb} "${this.device.id}" ${started ? 'stalled for' : 'did not start within'} ${Math.round(ms)} ms (device unplugged or taken?)`, this.field)),
      START_MS,
    );
  }

  /** The option naming this stream's device, for errors. */
  protected get field(): 'inputId' | 'outputId' {
    return this.direction === 'input' ? 'inputId' : 'outputId';
  }

  private get verb(): string {
    return this.direction === 'input' ? 'capture from' : 'playback to';
  }

  /** Subclasses call this at the end of their constructor, once their ring is primed. */
  protected begin(): void {
    try {
      this.pa.start(this.handle);
    } catch (err) {
      this.running = false;
      this.watchdog.dispose();
      void this.pa.close(this.handle).catch(() => {});
      throw new BridgeError('open-failed', `${this.field}: cannot start "${this.device.id}": ${(err as Error).message}`, this.field);
    }
  }

  /** Fill or drain the ring; `stats` are the native counters as of this tick. */
  protected abstract service(stats: RingStats): void;

  /**
   * A speaker's top-up runs after the I/O that became ready with its tick. When the thread was held (a peer's
   * handshake, a long task), the device's ticks and the network's packets wait together; served first, the tick would
   * pull the playouts before the packets it needs were read, and conceal audio that had in fact arrived. Ticks that
   * queued meanwhile are one top-up: it fills the ring to its margin whatever the count.
   */
  private tickAfterIo(): void {
    if (this.tickQueued) return;
    this.tickQueued = true;
    setImmediate(() => {
      this.tickQueued = false;
      this.tick();
    });
  }

  private tickQueued = false;

  private tick(): void {
    if (!this.running) return;
    this.watchdog.progress();
    const stats = this.pa.stats(this.handle);
    this.deviceThreadId = stats.threadId;
    if (stats.finished) {
      this.fail(new BridgeError('device-lost', `${this.verb} "${this.device.id}" ended by itself (device unplugged or taken?)`, this.field));
      return;
    }
    this.service(stats);
  }

  protected fail(error: BridgeError): void {
    if (!this.running) return;
    this.running = false;
    this.watchdog.dispose();
    this.emit('error', error);
  }

  /** Never hangs: an unplugged device is abandoned after a deadline. */
  async stop(): Promise<'stopped' | 'abandoned'> {
    this.running = false;
    this.watchdog.dispose();
    if (this.closing) return this.closing;
    this.closing = closeWithin(this.pa, this.handle, 1000).then((outcome) => {
      if (outcome === 'abandoned') noteAbandoned();
      return outcome;
    });
    return this.closing;
  }

  private closing: Promise<'stopped' | 'abandoned'> | undefined;
}
