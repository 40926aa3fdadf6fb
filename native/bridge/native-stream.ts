import { loadPortAudio, type PortAudioBinding, type RingHandle } from './binding';
import { resolveDevice, type AudioDevice, type Direction } from './devices';
import { BridgeError } from './errors';
import { SAMPLE_RATE } from '../audio-format';

export { SAMPLE_RATE } from '../audio-format';
export type ChunkMs = 5 | 10;

/**
 * Frames per device callback, in ms, capped at the chunk JavaScript works in. ALSA buffers two periods per
 * direction, so 5 ms periods under 10 ms chunks took the bridge's own capture->playback floor from 46-53 to 39 ms
 * and station->station to 61.6 ms. But behind ALSA's pulse plugin a 10 ms device buffer xruns, and its recovery
 * stalled a speaker for 1.2 s on an idle machine (the two-station test, 1 run in 3). So a period is a whole chunk
 * until the pulse path can take it; shorter periods stay possible per stream.
 */
export const DEVICE_PERIOD_MS = 10;

/**
 * Periods of buffer a speaker asks the host API for (ALSA grants at least two). Three were tried: on an idle
 * machine the device's own underflows fell from 10-18 to 0-3 in a 15 s two-station test, but with one busy core
 * the two-station test then failed 4 runs of 4 (our queue ran short instead), against 4 of 4 passing with two.
 * So two, until the pulse path is understood better; the station's log tells the two kinds of underrun apart.
 */
export const SPEAKER_BUFFER_PERIODS = 2;

/**
 * What a speaker on the sound server's own protocol asks it to hold at first (its buffer for us plus the device's
 * own latency). The server deepens it by itself after each of its underflows (native/portaudio/src/server_latency.h).
 *
 * The station does not set PULSE_LATENCY_MSEC: libpulse lets it override every buffer attribute of every stream in
 * the process, on each connect and each change, so it would pin this buffer (no deepening), bring back a prebuffer
 * after every underflow, and make a 5 ms microphone deliver 10 ms at a time. ALSA's pulse plugin, which never asks
 * for low latency by itself, then holds a whole ALSA buffer on the server (22.5 ms measured): the plugin is the
 * fallback path on Linux. A user who sets PULSE_LATENCY_MSEC gets what they asked for, on both paths.
 */
export const SOUND_SERVER_LATENCY_MS = 10;

export interface NativeOpen {
  pa: PortAudioBinding;
  handle: RingHandle;
  device: AudioDevice;
  chunkSamples: number;
  periodSamples: number;
}

/**
 * Opens one direction of a device as mono signed 16-bit at 48 kHz, one callback per chunk, with a ring of
 * `ringChunks` chunks between the callback and JavaScript, or throws a BridgeError.
 */
export function openNative(
  direction: Direction,
  deviceId: string | null,
  sampleRate: number,
  chunkMs: number,
  ringChunks: number,
  onTick: () => void,
  periodMs: number = DEVICE_PERIOD_MS,
): NativeOpen {
  const field = direction === 'input' ? 'inputId' : 'outputId';
  if (sampleRate !== SAMPLE_RATE) {
    throw new BridgeError('unsupported-rate', `sampleRate: ${sampleRate} Hz is not supported; the bridge runs at ${SAMPLE_RATE} Hz`, 'sampleRate');
  }
  if (chunkMs !== 5 && chunkMs !== 10) {
    throw new BridgeError('unsupported-format', `chunkMs: ${chunkMs} is not supported (5 or 10)`, 'chunkMs');
  }
  if (!Number.isInteger(ringChunks) || ringChunks < 2 || ringChunks > 64) {
    throw new BridgeError('unsupported-format', `queueChunks: ${ringChunks} must be a whole number from 2 to 64`, 'queueChunks');
  }
  const { index, device, serverName } = resolveDevice(deviceId, direction, field);
  const pa = loadPortAudio();
  if (serverName !== undefined) {
    const chunkSamples = (sampleRate * chunkMs) / 1000;
    const periodSamples = (sampleRate * Math.min(periodMs, chunkMs)) / 1000;
    const handle = openOnSoundServer(pa, direction, serverName, device, sampleRate, chunkSamples, ringChunks, onTick, periodSamples);
    return { pa, handle, device, chunkSamples, periodSamples };
  }
  // On Linux, PortAudio reaches the device through ALSA, usually behind its pulse plugin, where a period shorter than
  // DEVICE_PERIOD_MS xruns and the recovery stalls the stream: such a stream works in chunks of at least that much.
  const streamChunkMs = process.platform === 'linux' ? Math.max(chunkMs, DEVICE_PERIOD_MS) : chunkMs;
  const chunkSamples = (sampleRate * streamChunkMs) / 1000;
  const periodSamples = (sampleRate * Math.min(periodMs, streamChunkMs)) / 1000;
  let handle: RingHandle;
  try {
    // A speaker asks the host for three periods of buffer; a microphone takes the device's default low latency
    // (ALSA grants two periods whatever is suggested below that).
    const suggestedSeconds = direction === 'output' ? (SPEAKER_BUFFER_PERIODS * periodSamples) / sampleRate : 0;
    handle = pa.open(direction === 'input', index, sampleRate, chunkSamples, ringChunks, onTick, suggestedSeconds, periodSamples);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'unsupported-rate' || /sample rate/i.test(e.message)) {
      throw new BridgeError('unsupported-rate', `${field}: "${device.id}" cannot run at ${sampleRate} Hz (${e.message})`, field);
    }
    throw new BridgeError('open-failed', `${field}: cannot open "${device.id}": ${e.message}`, field);
  }
  return { pa, handle, device, chunkSamples, periodSamples };
}

/**
 * A sink or source of the sound server, on its native protocol. A speaker asks the server for SOUND_SERVER_LATENCY_MS
 * at first (its buffer for us plus the device's own latency: it kept 7.5 ms of buffer for that here), a microphone
 * for a period at a time. libpulse lets PULSE_LATENCY_MSEC override both, and a user who set it gets what they asked for.
 */
function openOnSoundServer(
  pa: PortAudioBinding,
  direction: Direction,
  serverName: string,
  device: AudioDevice,
  sampleRate: number,
  chunkSamples: number,
  ringChunks: number,
  onTick: () => void,
  periodSamples: number,
): RingHandle {
  const field = direction === 'input' ? 'inputId' : 'outputId';
  if (!pa.openPulse) throw new BridgeError('unknown-device', `${field}: "${device.id}" is a PulseAudio device, and PulseAudio's protocol is not available on ${process.platform}`, field);
  const latencyFrames = direction === 'output' ? Math.max(periodSamples, (sampleRate * SOUND_SERVER_LATENCY_MS) / 1000) : periodSamples;
  try {
    return pa.openPulse(direction === 'input', serverName, sampleRate, chunkSamples, ringChunks, onTick, latencyFrames, periodSamples);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'no-such-device') {
      throw new BridgeError('unknown-device', `${field}: the sound server has no ${direction === 'input' ? 'source' : 'sink'} "${serverName}" (${e.message})`, field);
    }
    throw new BridgeError('open-failed', `${field}: cannot open "${device.id}": ${e.message}`, field);
  }
}

/**
 * Closing waits for PortAudio to let go of the device, and an unplugged device may never let go.
 * So stopping races the native close against a deadline: the caller always gets control back.
 */
export async function closeWithin(pa: PortAudioBinding, handle: RingHandle, ms: number): Promise<'stopped' | 'abandoned'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'abandoned'>((resolve) => {
    timer = setTimeout(() => resolve('abandoned'), ms);
  });
  try {
    return await Promise.race([pa.close(handle).then(() => 'stopped' as const, () => 'stopped' as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
