/**
 * The boundary between a station's control side (signalling, line keys, presence, health reporting, on the main
 * thread) and its media side (devices, the send pipeline, peers, playout, mixer, in the media thread). Everything
 * that crosses it is a plain structured-clonable value.
 */
import type { DeviceList, DeviceSelection, IceServer, Meter, PeerConnection, SpeakerHealth } from '../../common/contract';
import type { CandidateInit } from '../remote-peer';
import type { LogRecord } from '../../common/log';
import type { JanusLineAccess } from '../../common/signalling-protocol';

export type FrameMs = 5 | 10 | 20;

export interface MediaOptions {
  /** Opus frame (and RTP packet) duration. */
  frameMs: FrameMs;
  bitrate: number;
  application: 'voip' | 'audio';
  /** Bridge chunk: 5 or 10 ms. */
  chunkMs: 5 | 10;
  /** Chunks queued ahead of the speaker at first; the queue then follows the machine (SpeakerMargin). */
  playbackQueue: number;
  metersHz: number;
  healthHz: number;
  loopbackCandidates: boolean;
  /** Ask rtkit for real-time scheduling of the device threads and a raised priority for the media thread. */
  realtime: boolean;
}

/** Stable device ids to move to; a field left out keeps its device, null is the system default. */
export type DeviceChoice = { inputId?: string | null; outputId?: string | null };

/** The devices the open streams play on, while they do: a listing made elsewhere must not leave them out. */
export type OnAirDevices = Pick<DeviceList, 'inputs' | 'outputs'>;

/** Who the microphone goes to and at what gain each remote is heard: pushed whenever a key or presence changes. */
export interface Routing {
  sendTo: string[];
  gains: Record<string, number>;
}

/** Per joined line, the gain each remote talking there plays at on that line: what the line's own meter measures. */
export type LineMix = Record<string, Record<string, number>>;

export type MediaCommand =
  | { op: 'selectDevices'; choice: DeviceChoice }
  | { op: 'onAirDevices' }
  | { op: 'setTestTone'; on: boolean; frequencyHz?: number; levelDb?: number }
  | { op: 'ringCallTone' }
  | { op: 'addPeer'; id: string; iceServers: IceServer[] }
  | { op: 'dropPeer'; id: string; why: string }
  | { op: 'offer'; id: string }
  | { op: 'acceptOffer'; id: string; sdp: string }
  | { op: 'acceptAnswer'; id: string; sdp: string }
  | { op: 'addCandidate'; id: string; candidate: CandidateInit | null }
  | { op: 'setRouting'; routing: Routing }
  | { op: 'setLineMix'; lines: LineMix }
  | { op: 'setMasterVolume'; volume: number }
  | { op: 'markRtp'; id: string; flowing: boolean }
  /** Carry a line through Janus (see engine/janus): publish to its room, hear every member's feed. */
  | { op: 'joinJanusLine'; line: string; stationId: string; access: JanusLineAccess }
  | { op: 'leaveJanusLine'; line: string }
  | { op: 'close' };

export type MediaResult<C extends MediaCommand['op']> = C extends 'selectDevices'
  ? DeviceSelection
  : C extends 'onAirDevices'
    ? OnAirDevices
    : C extends 'setTestTone'
      ? { on: boolean }
      : undefined;

/** One remote's media as the control side needs it for health and for noticing a peer that carries nothing. */
export interface PeerMediaHealth {
  id: string;
  connection: PeerConnection;
  rttMs: number | null;
  /** How long ago RTP last arrived, ms; null if none ever did. */
  rtpAgoMs: number | null;
  /** How long the peer has been connected, ms; null if it never was. */
  connectedForMs: number | null;
  jitterMs: number;
  lossRate: number;
  playoutDelayMs: number;
  targetDelayMs: number;
  lowLatency: boolean;
  concealedFrames: number;
  stretchedFrames: number;
  fecRecoveredFrames: number;
  remoteLossRate: number | null;
  speaking?: boolean;
  levelDbov?: number;
}

export type { SpeakerHealth };

export type MediaEvent =
  | { type: 'log'; record: LogRecord }
  | { type: 'description'; id: string; kind: 'offer' | 'answer'; sdp: string }
  | { type: 'candidate'; id: string; candidate: CandidateInit | null }
  | { type: 'connection'; id: string; state: PeerConnection }
  | { type: 'notice'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'janus'; line: string; state: 'connecting' | 'connected' | 'failed' | 'closed'; detail: string }
  | { type: 'devices'; selection: DeviceSelection }
  | { type: 'health'; peers: PeerMediaHealth[]; speaker: SpeakerHealth | null; selection: DeviceSelection }
  | { type: 'meters'; t: number; input: Meter; output: Meter; peers: Record<string, Meter>; lines: Record<string, Meter> };

/** What the control side holds of the media side: in a worker thread (WorkerMedia) or in this one (MediaEngine). */
export interface Media {
  call<C extends MediaCommand>(command: C): Promise<MediaResult<C['op']>>;
  onEvent(listener: (event: MediaEvent) => void): void;
  /** Stops everything and lets go of the devices. */
  close(): Promise<void>;
}

/** A BridgeError or a validation error as it crosses the boundary: enough to rebuild it with its code and field. */
export interface MediaError {
  name: string;
  message: string;
  code?: string;
  field?: string;
}
