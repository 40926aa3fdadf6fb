import { loadNaudiodon, type NativeAudioIO } from './binding';
import { resolveDevice, type AudioDevice, type Direction } from './devices';
import { BridgeError } from './errors';

export const SAMPLE_RATE = 48000;
export type ChunkMs = 5 | 10;

export interface NativeOpen {
  io: NativeAudioIO;
  device: AudioDevice;
  chunkSamples: number;
}

/** Opens one direction of a device as mono signed 16-bit at 48 kHz with small chunks, or throws a BridgeError. */
export function openNative(
  direction: Direction,
  deviceId: string | null,
  sampleRate: number,
  chunkMs: number,
  maxQueue: number,
): NativeOpen {
  const field = direction === 'input' ? 'inputId' : 'outputId';
  if (sampleRate !== SAMPLE_RATE) {
    throw new BridgeError('unsupported-rate', `sampleRate: ${sampleRate} Hz is not supported; the bridge runs at ${SAMPLE_RATE} Hz`, 'sampleRate');
  }
  if (chunkMs !== 5 && chunkMs !== 10) {
    throw new BridgeError('unsupported-format', `chunkMs: ${chunkMs} is not supported (5 or 10)`, 'chunkMs');
  }
  const { index, device } = resolveDevice(deviceId, direction, field);
  const chunkSamples = (sampleRate * chunkMs) / 1000;
  const options = {
    deviceId: index,
    sampleRate,
    channelCount: 1,
    sampleFormat: 16 as const,
    framesPerBuffer: chunkSamples,
    maxQueue,
    closeOnError: true,
  };
  let io: NativeAudioIO;
  try {
    io = loadNaudiodon().create(direction === 'input' ? { inOptions: options } : { outOptions: options });
  } catch (err) {
    const text = (err as Error).message;
    if (/sample rate/i.test(text)) {
      throw new BridgeError('unsupported-rate', `${field}: "${device.id}" cannot run at ${sampleRate} Hz (${text})`, field);
    }
    throw new BridgeError('open-failed', `${field}: cannot open "${device.id}": ${text}`, field);
  }
  return { io, device, chunkSamples };
}

/** PortAudio status flags arrive as one string, e.g. "portAudio status - output underflow priming output ". */
export function parseStatus(text: string): { underflow: boolean; overflow: boolean } {
  return { underflow: /underflow/.test(text), overflow: /overflow/.test(text) };
}

/**
 * naudiodon's quit waits for the device callback to drain; an unplugged device never calls back.
 * So stopping races the native quit against a deadline: the caller always gets control back.
 */
export async function quitWithin(io: NativeAudioIO, ms: number): Promise<'stopped' | 'abandoned'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'abandoned'>((resolve) => {
    timer = setTimeout(() => resolve('abandoned'), ms);
  });
  try {
    return await Promise.race([io.quit('WAIT').then(() => 'stopped' as const, () => 'stopped' as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
