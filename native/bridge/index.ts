export { BridgeError, type BridgeErrorCode } from './errors';
export { listDevices, resolveDevice, type AudioDevice, type DeviceList, type Direction } from './devices';
export { CaptureStream, type CaptureOptions, type CaptureCounters } from './capture';
export { PlaybackStream, type PlaybackOptions, type PlaybackSource, type PlaybackCounters } from './playback';
export { SAMPLE_RATE, type ChunkMs } from './native-stream';
export { exitProcess, abandonedStreamCount } from './watchdog';
export { raiseAudioPriority, AUDIO_NICE, type PriorityResult } from './priority';
