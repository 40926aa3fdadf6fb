import type { CommandInput, CommandName, CommandOutput, EventListener, Settings, StationControl } from '../common/contract';
import { GlobalPushToTalk } from './global-ptt';
import type { GlobalKeySource, HotkeyProbe } from './key-source';

/**
 * The desktop app's global push-to-talk in front of a station: the hotkeys saved in settings key their lines, they
 * follow every settings.update, and a desktop that cannot give global keys says so as a `notice` event.
 */
export async function withGlobalPushToTalk(control: StationControl, settings: Settings, source: GlobalKeySource, probe?: HotkeyProbe): Promise<StationControl & { close(): Promise<void> }> {
  const listeners = new Set<EventListener>();
  const ptt = new GlobalPushToTalk({
    source,
    setTalk: (line, on) => {
      control.invoke('line.setTalk', { line, on }).catch((error: Error) => notice('warn', `hotkey for line ${line}: ${error.message}`));
    },
    notice: (level, message) => notice(level, message),
    ...(probe ? { probe } : {}),
  });
  const pending: { level: 'info' | 'warn' | 'error'; message: string }[] = [];
  function notice(level: 'info' | 'warn' | 'error', message: string): void {
    // The UI subscribes after start-up: what was said before waits for it.
    if (listeners.size === 0) pending.push({ level, message });
    for (const l of listeners) l('notice', { level, message });
  }
  ptt.bind(settings.hotkeys);
  if (settings.hotkeys.length > 0) await ptt.start();
  return {
    async invoke<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
      if (name === 'hotkeys.getState') return ptt.state() as CommandOutput<C>;
      const output = await control.invoke(name, input);
      if (name === 'settings.update') {
        const saved = output as Settings;
        ptt.bind(saved.hotkeys);
        if (saved.hotkeys.length > 0) await ptt.start();
      }
      return output;
    },
    subscribe(listener: EventListener): () => void {
      listeners.add(listener);
      for (const n of pending.splice(0)) listener('notice', n);
      const stop = control.subscribe(listener);
      return () => {
        listeners.delete(listener);
        stop();
      };
    },
    close: () => ptt.stop(),
  };
}
