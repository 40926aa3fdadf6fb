export { BridgeError, type BridgeErrorCode } from './errors';
export { listDevices, resolveDevice, deviceList, type AudioDevice, type DeviceList, type Direction } from './devices';
export {
  scanDevices,
  startDeviceScanner,
  locateDevice,
  rescanBlocked,
  SCAN_REUSE_MS,
  type DeviceReach,
} from './device-scan';
export { CaptureStream, type CaptureOptions, type CaptureCounters } from './capture';
export { PlaybackStream, type PlaybackOptions, type PlaybackSource, type PlaybackCounters } from './playback';
export { SpeakerMargin, type MarginReading } from './speaker-margin';
export { SAMPLE_RATE, type ChunkMs } from './native-stream';
export { exitProcess, abandonedStreamCount } from './watchdog';
export { raiseAudioPriority, raiseOtherThreads, AUDIO_NICE, type PriorityResult } from './priority';
