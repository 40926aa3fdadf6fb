// The update commands of the control contract (update.*) and the `update` event, over an UpdateService. Restarts go
// through UpdateCoordinator: over a latched talk key or an active line only when the operator has confirmed.
// Plain Node: no electron import, so the headless station and the tests use it as the app does.
import {
  ControlCommandError,
  type EngineActivity,
  type StationState,
  type UpdateChannel,
  type UpdateRestartResult,
  type UpdateState,
} from '../common/contract';
import { UpdateCoordinator } from './update-coordinator';
import { UpdateError, type UpdateService } from './update-service';

/** What a control surface can ask of updates; `UnmanagedUpdates` answers for a station that does not update itself. */
export interface UpdateCommands {
  state(): UpdateState;
  check(): Promise<UpdateState>;
  setChannel(channel: UpdateChannel): Promise<UpdateState>;
  download(): Promise<UpdateState>;
  restart(confirmed: boolean): Promise<UpdateRestartResult>;
  /** Called with every state change. */
  subscribe(listener: (state: UpdateState) => void): () => void;
}

export interface UpdateControlOptions {
  service: UpdateService;
  /** What the engine is doing right now, asked at the moment of a restart. */
  engineActivity: () => Promise<EngineActivity>;
  /** Keeps the operator's channel choice for the next start. */
  rememberChannel?: (channel: UpdateChannel) => Promise<unknown>;
}

/** Talk keys on count as latched (a held momentary key is mid-sentence too); a line is active when audio flows on it. */
export function activityOf(state: StationState): EngineActivity {
  const onAir = state.connection === 'joined' || state.connection === 'reconnecting';
  if (!onAir) return { latchedTalkKeys: 0, activeLines: 0 };
  return {
    latchedTalkKeys: state.lines.filter((line) => line.talk).length,
    activeLines: state.lines.filter((line) => line.talk || line.talkers.length > 0).length,
  };
}

export class UpdateControl implements UpdateCommands {
  private current: UpdateState;
  private readonly listeners = new Set<(state: UpdateState) => void>();
  private checking: Promise<UpdateState> | null = null;
  private downloading: Promise<UpdateState> | null = null;

  constructor(private readonly options: UpdateControlOptions) {
    const { service } = options;
    this.current = { phase: 'idle', currentVersion: service.currentVersion, channel: service.channel, offer: null, progress: null, checkedAt: null };
    service.on('progress', (progress) => {
      if (this.current.phase === 'downloading') this.set({ progress });
    });
  }

  state(): UpdateState {
    return this.current;
  }

  subscribe(listener: (state: UpdateState) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** One check at a time: a second request while one runs gets the same answer. */
  check(): Promise<UpdateState> {
    if (this.downloading) return Promise.resolve(this.current);
    this.checking ??= this.runCheck().finally(() => (this.checking = null));
    return this.checking;
  }

  async setChannel(channel: UpdateChannel): Promise<UpdateState> {
    if (this.downloading) {
      throw new ControlCommandError({ code: 'failed', field: 'channel', message: 'a download is in progress: switch channel when it has finished' });
    }
    if (channel === this.options.service.channel) return this.current;
    this.options.service.setChannel(channel);
    await this.options.rememberChannel?.(channel);
    // An offer from the other channel no longer applies; a verified download stays installable.
    const downloaded = this.options.service.downloaded;
    this.set(downloaded ? { channel } : { channel, phase: 'idle', offer: null, progress: null });
    return this.check();
  }

  download(): Promise<UpdateState> {
    if (this.current.phase !== 'available' && !this.downloading) {
      const why = this.current.phase === 'downloaded' ? 'the update is already downloaded' : 'check for an update first';
      return Promise.reject(new ControlCommandError({ code: 'failed', message: `nothing to download: ${why}` }));
    }
    this.downloading ??= this.runDownload().finally(() => (this.downloading = null));
    return this.downloading;
  }

  async restart(confirmed: boolean): Promise<UpdateRestartResult> {
    const offer = this.options.service.downloaded;
    if (!offer) throw new ControlCommandError({ code: 'failed', message: 'no verified update has been downloaded yet' });
    const activity = await this.options.engineActivity();
    const coordinator = new UpdateCoordinator(this.options.service, () => activity, async () => confirmed);
    const outcome = await coordinator.restartToUpdate();
    if (outcome.restarted) return { outcome: 'restarting', offer: outcome.offer };
    return { outcome: 'needs-confirmation', offer, activity };
  }

  private async runCheck(): Promise<UpdateState> {
    this.set({ phase: 'checking', progress: null });
    try {
      const result = await this.options.service.check();
      const downloaded = this.options.service.downloaded;
      // A verified download stays the answer until the feed offers something newer than it.
      if (downloaded && (!result.available || downloaded.version === result.offer.version)) {
        this.set({ phase: 'downloaded', offer: downloaded, checkedAt: Date.now() });
      } else {
        this.set({ phase: result.available ? 'available' : 'up-to-date', offer: result.offer, checkedAt: Date.now() });
      }
    } catch (error) {
      this.fail(error, { checkedAt: Date.now() });
    }
    return this.current;
  }

  private async runDownload(): Promise<UpdateState> {
    this.set({ phase: 'downloading', progress: { percent: 0, transferredBytes: 0, totalBytes: 0, bytesPerSecond: 0 } });
    try {
      const offer = await this.options.service.download();
      this.set({ phase: 'downloaded', offer, progress: null });
    } catch (error) {
      this.fail(error, { progress: null });
    }
    return this.current;
  }

  private fail(error: unknown, change: Partial<UpdateState>): void {
    const code = error instanceof UpdateError ? error.code : 'failed';
    this.set({ ...change, phase: 'error', errorCode: code, message: error instanceof Error ? error.message : String(error) });
  }

  private set(change: Partial<UpdateState>): void {
    const next: UpdateState = { ...this.current, ...change };
    if (next.phase !== 'error') {
      delete next.message;
      delete next.errorCode;
    }
    this.current = next;
    for (const listener of [...this.listeners]) listener(next);
  }
}

/** For a station that does not update itself: every query says who does, every action is refused saying so. */
export class UnmanagedUpdates implements UpdateCommands {
  private readonly current: UpdateState;

  constructor(currentVersion: string, readonly reason: string) {
    this.current = { phase: 'unmanaged', currentVersion, channel: null, offer: null, progress: null, message: reason, checkedAt: null };
  }

  state(): UpdateState {
    return this.current;
  }

  subscribe(): () => void {
    return () => undefined;
  }

  check(): Promise<UpdateState> {
    return this.refuse();
  }

  setChannel(): Promise<UpdateState> {
    return this.refuse();
  }

  download(): Promise<UpdateState> {
    return this.refuse();
  }

  restart(): Promise<UpdateRestartResult> {
    return this.refuse();
  }

  private async refuse(): Promise<never> {
    throw new ControlCommandError({ code: 'failed', message: this.reason });
  }
}

export const HEADLESS_UPDATES_REASON =
  'Updates are managed by the desktop app. This headless station is updated with the software it runs from (its package or checkout), not from here.';
