import type { AppUpdater, Logger, ProgressInfo, UpdateInfo } from 'electron-updater';
import { parseFeedUrl, type FeedUrlOptions } from './feed-url';
import {
  UPDATE_CHANNELS,
  UpdateError,
  type DownloadProgress,
  type UpdateChannel,
  type UpdateCheckResult,
  type UpdateEventName,
  type UpdateEvents,
  type UpdateListener,
  type UpdateOffer,
  type UpdateService,
} from './update-service';

export interface FeedUpdateServiceOptions extends FeedUrlOptions {
  /** A platform updater from electron-updater (see update-factory.ts). */
  updater: AppUpdater;
  /** Base URL of the generic feed: the directory holding latest-<platform>.yml and beta-<platform>.yml. */
  feedUrl: string;
  channel: UpdateChannel;
  logger?: Logger;
}

/** electron-updater's channel names: the stable channel is published as `latest`. */
const FEED_CHANNEL: Record<UpdateChannel, string> = { stable: 'latest', beta: 'beta' };

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** UpdateService over electron-updater's generic provider: the feed is a plain static HTTPS directory. */
export class FeedUpdateService implements UpdateService {
  private readonly updater: AppUpdater;
  private readonly feedUrl: URL;
  private currentChannel: UpdateChannel;
  private offer: UpdateOffer | null = null;
  private downloadedOffer: UpdateOffer | null = null;
  private readonly listeners = new Map<UpdateEventName, Set<(...args: never[]) => void>>();

  constructor(options: FeedUpdateServiceOptions) {
    this.feedUrl = parseFeedUrl(options.feedUrl, options);
    this.currentChannel = checkChannel(options.channel, 'channel');
    this.updater = options.updater;
    this.updater.logger = options.logger ?? null;
    // We decide when to download (metered links, a show in progress) and when to restart (UpdateCoordinator).
    this.updater.autoDownload = false;
    this.updater.setFeedURL({ provider: 'generic', url: this.feedUrl.href });
    this.applyChannel();
    this.updater.on('download-progress', (info: ProgressInfo) => this.emit('progress', toProgress(info)));
  }

  get currentVersion(): string {
    return this.updater.currentVersion.version;
  }

  get channel(): UpdateChannel {
    return this.currentChannel;
  }

  get downloaded(): UpdateOffer | null {
    return this.downloadedOffer;
  }

  setChannel(channel: UpdateChannel): void {
    this.currentChannel = checkChannel(channel, 'channel');
    this.applyChannel();
    this.offer = null;
  }

  async check(): Promise<UpdateCheckResult> {
    this.emit('checking');
    const channel = this.currentChannel;
    let result;
    try {
      result = await this.updater.checkForUpdates();
    } catch (err) {
      throw this.fail(this.checkError(err, channel));
    }
    if (!result) {
      throw this.fail(new UpdateError('feed-invalid', 'the updater is inactive: this build is not a packaged app'));
    }
    const offer = toOffer(result.updateInfo, channel);
    this.offer = result.isUpdateAvailable ? offer : null;
    this.emit(result.isUpdateAvailable ? 'available' : 'not-available', offer);
    return { available: result.isUpdateAvailable, offer };
  }

  async download(): Promise<UpdateOffer> {
    const offer = this.offer;
    if (!offer) {
      throw this.fail(new UpdateError('nothing-to-download', 'no update to download: check() found none on this channel'));
    }
    try {
      await this.updater.downloadUpdate();
    } catch (err) {
      throw this.fail(downloadError(err, offer));
    }
    this.downloadedOffer = offer;
    this.emit('downloaded', offer);
    return offer;
  }

  quitAndInstall(): void {
    if (!this.downloadedOffer) {
      throw this.fail(new UpdateError('nothing-to-install', 'no verified update has been downloaded'));
    }
    // isSilent=false: the platform installer may show progress; isForceRunAfter=true: come back after installing.
    this.updater.quitAndInstall(false, true);
  }

  on<E extends UpdateEventName>(event: E, listener: UpdateListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const entry = listener as (...args: never[]) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  private emit<E extends UpdateEventName>(event: E, ...args: UpdateEvents[E]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as UpdateListener<E>)(...args);
  }

  private fail(error: UpdateError): UpdateError {
    this.emit('error', error);
    return error;
  }

  private applyChannel(): void {
    this.updater.channel = FEED_CHANNEL[this.currentChannel];
    // Setting a channel turns on downgrades in electron-updater. Leaving beta for stable must not install an
    // older stable over a newer beta: the station stays on its beta until a newer stable is published.
    this.updater.allowDowngrade = false;
  }

  private checkError(err: unknown, channel: UpdateChannel): UpdateError {
    const code = errorCode(err);
    const reason = errorMessage(err);
    const channelFile = `${FEED_CHANNEL[channel]}-<platform>.yml`;
    if (code === 'ERR_UPDATER_CHANNEL_FILE_NOT_FOUND') {
      return new UpdateError('channel-missing', `the update feed ${this.feedUrl.href} publishes no ${channel} channel (${channelFile} not found)`, undefined, { cause: err });
    }
    if ((code && UNREACHABLE_CODES.has(code)) || statusCode(err) !== undefined) {
      const status = statusCode(err);
      const why = status !== undefined ? `HTTP ${status}` : code;
      return new UpdateError('feed-unreachable', `the update feed ${this.feedUrl.href} is unreachable (${why}); will retry at the next check`, undefined, { cause: err });
    }
    return new UpdateError('feed-invalid', `the update feed ${this.feedUrl.href} answered with unusable update info: ${reason}`, undefined, { cause: err });
  }
}

function downloadError(err: unknown, offer: UpdateOffer): UpdateError {
  const message = errorMessage(err);
  if (errorCode(err) === 'ERR_CHECKSUM_MISMATCH') {
    return new UpdateError(
      'checksum-mismatch',
      `update ${offer.version} was refused: the downloaded file does not match the sha512 the feed published (${message}); the file was discarded and nothing will be installed`,
      undefined,
      { cause: err },
    );
  }
  return new UpdateError('download-failed', `downloading update ${offer.version} failed: ${message}`, undefined, { cause: err });
}

function checkChannel(value: unknown, field: string): UpdateChannel {
  if (typeof value === 'string' && (UPDATE_CHANNELS as readonly string[]).includes(value)) return value as UpdateChannel;
  throw new UpdateError('bad-channel', `${field} must be one of ${UPDATE_CHANNELS.join(', ')} (got ${JSON.stringify(value)})`, field);
}

function toOffer(info: UpdateInfo, channel: UpdateChannel): UpdateOffer {
  const notes = info.releaseNotes;
  return {
    version: info.version,
    channel,
    releaseDate: info.releaseDate,
    releaseNotes: typeof notes === 'string' ? notes : Array.isArray(notes) ? notes.map((n) => n.note ?? '').join('\n') : null,
  };
}

function toProgress(info: ProgressInfo): DownloadProgress {
  return { percent: info.percent, transferredBytes: info.transferred, totalBytes: info.total, bytesPerSecond: info.bytesPerSecond };
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function statusCode(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
