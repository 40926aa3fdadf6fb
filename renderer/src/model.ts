// The renderer's picture of the station, fed by contract events; React reads it through
// useSyncExternalStore. Meters are deliberately not here: they go straight to canvases.
import { useSyncExternalStore } from 'react';
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  DeviceList,
  EventPayload,
  PeerHealth,
  SpeakerHealth,
  PresencePeer,
  Settings,
  StationState,
  UpdateState,
} from '../../electron/common/contract';
import type { ControlLink, LinkStatus } from './api/link';

export interface Notice {
  id: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface Snapshot {
  link: LinkStatus;
  state: StationState | null;
  devices: DeviceList | null;
  settings: Settings | null;
  presence: PresencePeer[];
  health: PeerHealth[];
  /** The speaker's margin ahead of its device, from the latest health event; null until one came. */
  speaker: SpeakerHealth | null;
  update: UpdateState | null;
  notices: Notice[];
}

export class StationModel {
  private snapshot: Snapshot;
  private readonly listeners = new Set<() => void>();
  private noticeId = 0;

  constructor(readonly link: ControlLink) {
    this.snapshot = { link: link.status(), state: null, devices: null, settings: null, presence: [], health: [], speaker: null, update: null, notices: [] };
    const { api } = link;
    api.on('state', (state) => this.patch({ state }));
    api.on('presence', ({ peers }) => this.patch({ presence: peers }));
    api.on('health', ({ peers, speaker }) => this.patch({ health: peers, speaker: speaker ?? null }));
    api.on('notice', (notice) => this.notify(notice.level, notice.message));
    api.on('update', (update) => this.patch({ update }));
    api.on('devices', ({ selection }) => {
      const state = this.snapshot.state;
      if (state) this.patch({ state: { ...state, devices: selection } });
      void this.refreshDevices();
    });
    link.onStatus((status) => {
      this.patch({ link: status });
      // After a reconnect the station may have moved on; fetch everything again.
      if (status === 'open') void this.refresh();
    });
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  readonly getSnapshot = (): Snapshot => this.snapshot;

  patch(change: Partial<Snapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of [...this.listeners]) listener();
  }

  notify(level: Notice['level'], message: string): void {
    const notice = { id: ++this.noticeId, level, message };
    this.patch({ notices: [...this.snapshot.notices, notice].slice(-5) });
  }

  dismiss(id: number): void {
    this.patch({ notices: this.snapshot.notices.filter((notice) => notice.id !== id) });
  }

  /** Runs a command; a failure becomes a visible notice as well as a rejected promise. */
  async run<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
    try {
      return await this.link.api.invoke(name, input);
    } catch (error) {
      this.notify('error', error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  async refresh(): Promise<void> {
    // Each part on its own: one failing command (shown as a notice) must not leave the other screens blank.
    await Promise.allSettled([
      this.run('station.getState', {}).then((state) => this.patch({ state })),
      this.run('settings.get', {}).then((settings) => this.patch({ settings })),
      this.refreshDevices(),
      this.run('update.getState', {}).then((update) => this.patch({ update })),
    ]);
  }

  async refreshDevices(): Promise<void> {
    this.patch({ devices: await this.run('devices.list', {}) });
  }

  patchMaster(master: NonNullable<StationState['master']>): void {
    const state = this.snapshot.state;
    if (state) this.patch({ state: { ...state, master } });
  }

  patchDirect(direct: NonNullable<StationState['direct']>): void {
    const state = this.snapshot.state;
    if (state) this.patch({ state: { ...state, direct } });
  }

  applyLine(line: EventPayload<'state'>['lines'][number]): void {
    const state = this.snapshot.state;
    if (!state) return;
    this.patch({ state: { ...state, lines: state.lines.map((current) => (current.line === line.line ? line : current)) } });
  }
}

export function useSnapshot(model: StationModel): Snapshot {
  return useSyncExternalStore(model.subscribe, model.getSnapshot);
}
