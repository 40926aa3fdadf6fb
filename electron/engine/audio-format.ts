// The engine's one internal format is the bridge's and Opus's: defined once, in native/audio-format.ts.
export { BYTES_PER_SAMPLE, CHANNELS, SAMPLE_RATE, samplesFor } from '../../native/audio-format';
