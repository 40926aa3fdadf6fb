/**
 * The one internal audio format: mono, signed 16-bit, 48 kHz. Opus, the bridge, the engine, the tests and the
 * benches all run at it; this is the only place it is written down.
 */
export const SAMPLE_RATE = 48000;
export const CHANNELS = 1;
export const BYTES_PER_SAMPLE = Int16Array.BYTES_PER_ELEMENT;
export const samplesFor = (ms: number): number => (SAMPLE_RATE * ms) / 1000;
