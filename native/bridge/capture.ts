import type { RingStats } from './binding';
import { DeviceStream } from './device-stream';
import type { ChunkMs } from './native-stream';

export interface CaptureOptions {
  /** Stable device id from listDevices(), or null for the system default. */
  deviceId: string | null;
  sampleRate?: number;
  chunkMs?: ChunkMs;
  /**
   * Chunks the ring holds while JavaScript is busy (default: CAPTURE_RING_MS of them); more means fewer overruns,
   * never more latency in steady state.
   */
  queueChunks?: number;
  /** Called once per chunk with mono samples. The array is only valid during the call. */
  onChunk: (pcm: Int16Array) => void;
}

export interface CaptureCounters {
  chunks: number;
  /** Chunks lost because JavaScript fell behind by more than the ring, or the host API overflowed. */
  overruns: number;
}

/** How long a microphone's ring covers a busy thread by default. */
const CAPTURE_RING_MS = 160;

/** A microphone: the device callback fills a ring, and every tick hands JavaScript the whole chunks in it. */
export class CaptureStream extends DeviceStream {
  readonly counters: CaptureCounters = { chunks: 0, overruns: 0 };
  private readonly chunk: Int16Array;
  private lastChunkAt = NaN;
  private longestGapMs = 0;
  private longestTickWaitMs = 0;

  constructor(private readonly options: CaptureOptions) {
    super('input', options.deviceId, options.sampleRate, options.chunkMs, options.queueChunks ?? CAPTURE_RING_MS / (options.chunkMs ?? 10));
    this.chunk = new Int16Array(this.chunkSamples);
    this.begin();
  }

  protected service(stats: RingStats): void {
    this.counters.overruns = stats.overruns + stats.xruns;
    this.longestTickWaitMs = Math.max(this.longestTickWaitMs, stats.tickLatencyMs);
    while (this.running && this.pa.read(this.handle, this.chunk) > 0) {
      const now = performance.now();
      if (!Number.isNaN(this.lastChunkAt)) this.longestGapMs = Math.max(this.longestGapMs, now - this.lastChunkAt);
      this.lastChunkAt = now;
      this.counters.chunks++;
      this.options.onChunk(this.chunk);
    }
  }

  /**
   * Since the previous call: the longest wait between two chunks reaching JavaScript, and the longest a device
   * callback waited for this thread. A long wait with short ticks is the device (or sound server) delivering late;
   * with a long tick wait, it is this thread.
   */
  takeLongestGap(): { gapMs: number; tickWaitMs: number } {
    const taken = { gapMs: this.longestGapMs, tickWaitMs: this.longestTickWaitMs };
    this.longestGapMs = 0;
    this.longestTickWaitMs = 0;
    return taken;
  }
}
