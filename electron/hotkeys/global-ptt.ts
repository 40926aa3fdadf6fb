import { formatHotkey, type Hotkey, HotkeyError, parseHotkey } from '../common/hotkey';
import type { HotkeyState } from '../common/contract';
import { type GlobalKeyEvent, type GlobalKeySource, type HotkeyProbe, HotkeysUnavailable } from './key-source';

/** A hotkey and the line it keys while held. */
export interface HotkeyBinding {
  hotkey: string;
  line: string;
}

export interface GlobalPushToTalkOptions {
  source: GlobalKeySource;
  /** Keys talk on a line (true on key-down, false on key-up). */
  setTalk: (line: string, on: boolean) => void;
  /** What the operator should read: a hotkey layer that cannot start says why, and the app carries on. */
  notice: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Tells which hotkeys another application holds; without one, none is taken. */
  probe?: HotkeyProbe;
}

/**
 * Push-to-talk from anywhere on the desktop: each bound hotkey talks on its line while held, and stops on release,
 * whether or not the window has the focus or is shown. Modifiers must match exactly, so Ctrl+1 and 1 are two keys.
 */
export class GlobalPushToTalk {
  private bindings: { hotkey: Hotkey; line: string }[] = [];
  /** Lines keyed by a hotkey now, by the key that keyed them (a modifier let go first must not leave talk on). */
  private readonly held = new Map<string, string>();
  private running = false;
  /** Why the key source did not start, once it failed. */
  private unavailable: string | null = null;
  /** Hotkeys another application held when they were bound, by their index. */
  private taken = new Map<number, string>();

  constructor(private readonly options: GlobalPushToTalkOptions) {}

  /**
   * Replaces the bindings. A string that does not parse, or a hotkey bound twice, is an error naming
   * `hotkeys.N.hotkey`; the bindings in force then stay as they were.
   */
  bind(bindings: HotkeyBinding[]): void {
    const parsed = bindings.map((b, i) => ({ hotkey: parseHotkey(b.hotkey, `hotkeys.${i}.hotkey`), line: b.line }));
    const seen = new Map<string, number>();
    parsed.forEach((b, i) => {
      const name = formatHotkey(b.hotkey);
      const first = seen.get(name);
      if (first !== undefined) throw new HotkeyError(`hotkeys.${i}.hotkey: ${name} is already taken by line ${parsed[first]?.line}`, `hotkeys.${i}.hotkey`);
      seen.set(name, i);
    });
    this.releaseAll();
    this.bindings = parsed;
    this.taken = new Map();
    parsed.forEach((b, i) => {
      if (!this.options.probe?.isTaken(b.hotkey)) return;
      const message = `hotkeys.${i}.hotkey: ${formatHotkey(b.hotkey)} (line ${b.line}) is held by another application, so it may never reach Partyline: choose another key or free it there`;
      this.taken.set(i, message);
      this.options.notice('error', message);
    });
  }

  /** Each binding as it stands: keying its line, held by another application, or off because keys are unavailable. */
  state(): HotkeyState {
    return {
      available: this.unavailable === null,
      reason: this.unavailable,
      bindings: this.bindings.map((b, i) => {
        const hotkey = formatHotkey(b.hotkey);
        const taken = this.taken.get(i);
        if (taken) return { hotkey, line: b.line, state: 'taken' as const, message: taken };
        if (this.unavailable !== null || !this.running) return { hotkey, line: b.line, state: 'off' as const, message: this.unavailable ?? 'global hotkeys are not listening' };
        return { hotkey, line: b.line, state: 'active' as const };
      }),
    };
  }

  /** Starts the key source; if this desktop cannot give global keys, says so in a notice and returns false. */
  async start(): Promise<boolean> {
    if (this.running) return true;
    try {
      await this.options.source.start((e) => this.onKey(e));
      this.running = true;
      this.unavailable = null;
      return true;
    } catch (error) {
      const why = error instanceof HotkeysUnavailable ? error.message : `the global hotkeys failed to start: ${(error as Error).message}`;
      this.unavailable = why;
      this.options.notice('warn', `Global push-to-talk is off: ${why}. The keypanel's own keys still work while its window has the focus.`);
      return false;
    }
  }

  async stop(): Promise<void> {
    this.releaseAll();
    if (!this.running) return;
    this.running = false;
    await this.options.source.stop();
  }

  private onKey(e: GlobalKeyEvent): void {
    if (e.key === null) return;
    if (!e.down) {
      const line = this.held.get(e.key);
      if (line === undefined) return;
      this.held.delete(e.key);
      this.options.setTalk(line, false);
      return;
    }
    // Auto-repeat sends key-down again while held: talk is on already.
    if (this.held.has(e.key)) return;
    const binding = this.bindings.find((b) => b.hotkey.key === e.key && sameModifiers(b.hotkey.modifiers, e.modifiers));
    if (!binding) return;
    this.held.set(e.key, binding.line);
    this.options.setTalk(binding.line, true);
  }

  private releaseAll(): void {
    for (const [key, line] of [...this.held]) {
      this.held.delete(key);
      this.options.setTalk(line, false);
    }
  }
}

function sameModifiers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((m) => b.includes(m));
}
