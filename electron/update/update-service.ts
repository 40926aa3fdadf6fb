/**
 * The auto-update contract the Electron shell and the renderer talk to. The real implementation
 * (FeedUpdateService) wraps electron-updater; the restart policy (UpdateCoordinator) only needs this interface.
 */

/** `stable` reads `latest-<platform>.yml` from the feed, `beta` reads `beta-<platform>.yml`. */
export type UpdateChannel = 'stable' | 'beta';
export const UPDATE_CHANNELS: readonly UpdateChannel[] = ['stable', 'beta'];

export interface UpdateOffer {
  version: string;
  channel: UpdateChannel;
  releaseDate: string;
  releaseNotes: string | null;
}

export interface UpdateCheckResult {
  available: boolean;
  /** What the feed's channel file announces: the offer when newer, else the feed's version for display. */
  offer: UpdateOffer;
}

export interface DownloadProgress {
  percent: number;
  transferredBytes: number;
  totalBytes: number;
  bytesPerSecond: number;
}

export type UpdateErrorCode =
  | 'bad-feed-url'
  | 'insecure-feed'
  | 'bad-channel'
  | 'feed-unreachable'
  | 'channel-missing'
  | 'feed-invalid'
  | 'checksum-mismatch'
  | 'download-failed'
  | 'nothing-to-download'
  | 'nothing-to-install'
  | 'install-failed';

export class UpdateError extends Error {
  override readonly name = 'UpdateError';
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
    /** The option at fault, for configuration errors. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface UpdateEvents {
  checking: [];
  available: [offer: UpdateOffer];
  'not-available': [offer: UpdateOffer];
  progress: [progress: DownloadProgress];
  downloaded: [offer: UpdateOffer];
  error: [error: UpdateError];
}

export type UpdateEventName = keyof UpdateEvents;
export type UpdateListener<E extends UpdateEventName> = (...args: UpdateEvents[E]) => void;

export interface UpdateService {
  readonly currentVersion: string;
  readonly channel: UpdateChannel;
  /** Takes effect at the next check; a pending offer from the other channel is dropped. */
  setChannel(channel: UpdateChannel): void;
  /** Rejects with an UpdateError (also emitted as `error`); the service stays usable. */
  check(): Promise<UpdateCheckResult>;
  /** Downloads the offer of the last successful check and verifies its sha512. */
  download(): Promise<UpdateOffer>;
  /** The verified download waiting to be installed, if any. */
  readonly downloaded: UpdateOffer | null;
  /** Quits the app and installs the downloaded update. Callers go through UpdateCoordinator. */
  quitAndInstall(): void;
  /** Returns a function that removes the listener. */
  on<E extends UpdateEventName>(event: E, listener: UpdateListener<E>): () => void;
}
