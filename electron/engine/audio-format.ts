/** The engine's one internal format: mono, signed 16-bit, 48 kHz. Opus and the bridge both run at this rate. */
export const SAMPLE_RATE = 48000;
export const samplesFor = (ms: number): number => (SAMPLE_RATE * ms) / 1000;
