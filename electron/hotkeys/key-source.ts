import type { Hotkey, Modifier } from '../common/hotkey';

/** One key going down or up anywhere on the desktop, whichever window has the focus. */
export interface GlobalKeyEvent {
  /** A key name of hotkey.ts (UiohookKey's), or null for a key it does not name. */
  key: string | null;
  down: boolean;
  modifiers: Modifier[];
}

/** Where global key events come from: uiohook-napi on the desktop, a scripted source in tests. */
export interface GlobalKeySource {
  /** Starts listening; rejects with HotkeysUnavailable when this desktop cannot give global keys. */
  start(listener: (event: GlobalKeyEvent) => void): Promise<void>;
  stop(): Promise<void>;
}

/** This desktop cannot deliver global keys (no display server, no accessibility permission, no native module). */
export class HotkeysUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HotkeysUnavailable';
  }
}

/**
 * Whether another application holds a key combination (a global grab of its own): such a hotkey may never reach us.
 * The desktop app asks Electron's globalShortcut; tests script it.
 */
export interface HotkeyProbe {
  isTaken(hotkey: Hotkey): boolean;
}
