// Puts the settings store in front of a station: answers settings.* itself and remembers what the
// operator chose (devices, last connect values) so the next start offers them again.
import type { CommandInput, CommandName, CommandOutput, ConnectConfig, StationControl } from '../common/contract';
import type { SettingsStore } from '../settings/store';

export function withSettings(station: StationControl, store: SettingsStore): StationControl {
  async function invoke<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
    switch (name) {
      case 'settings.get':
        return store.get() as CommandOutput<C>;
      case 'settings.update':
        return (await store.update(input as CommandInput<'settings.update'>)) as CommandOutput<C>;
      case 'devices.select': {
        const selection = (await station.invoke(name, input)) as CommandOutput<'devices.select'>;
        await store.update({ devices: { inputId: selection.inputId, outputId: selection.outputId } });
        return selection as CommandOutput<C>;
      }
      case 'station.connect': {
        const state = await station.invoke(name, input);
        await store.update({ connect: withoutSecrets(input as ConnectConfig) });
        return state;
      }
      default:
        return station.invoke(name, input);
    }
  }

  return {
    invoke,
    subscribe(listener) {
      let live = true;
      // Load-time problems happened before anyone listened; every new surface is told once.
      queueMicrotask(() => {
        for (const notice of store.notices) if (live) listener('notice', notice);
      });
      const unsubscribe = station.subscribe(listener);
      return () => {
        live = false;
        unsubscribe();
      };
    },
  };
}

/** Line secrets and TURN credentials are not written to disk in clear; the operator re-enters them. */
function withoutSecrets(config: ConnectConfig): ConnectConfig {
  return {
    ...config,
    lines: config.lines.map(({ line }) => ({ line })),
    iceServers: config.iceServers.map(({ urls, username }) => (username === undefined ? { urls } : { urls, username })),
  };
}

/**
 * Re-selects the devices remembered from last time; a device that has gone shows up as 'missing'. With nothing
 * remembered, `openDefaults` opens the system default microphone and speaker (the desktop app's first launch);
 * without it the devices are left as they are (the headless station opened its own from the command line).
 */
export async function restoreRememberedDevices(station: StationControl, store: SettingsStore, options: { openDefaults?: boolean } = {}): Promise<void> {
  const { inputId, outputId } = store.get().devices;
  if (inputId === null && outputId === null && !options.openDefaults) return;
  await station.invoke('devices.select', { inputId, outputId });
}
