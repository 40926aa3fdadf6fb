import type { Modifier } from '../common/hotkey';
import { type GlobalKeyEvent, type GlobalKeySource, HotkeysUnavailable } from './key-source';

type Uiohook = typeof import('uiohook-napi');

/**
 * Global keys from uiohook-napi, which reports key-down and key-up wherever the focus is (Electron's globalShortcut
 * has no key-up, so it cannot do momentary talk). The native module loads only when started, and only where a display
 * server exists: without one its start never returns.
 */
export class UiohookKeySource implements GlobalKeySource {
  private hook: Uiohook | undefined;
  private names = new Map<number, string>();

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly platform: NodeJS.Platform = process.platform,
    private readonly load: () => Uiohook = () => require('uiohook-napi') as Uiohook,
  ) {}

  async start(listener: (event: GlobalKeyEvent) => void): Promise<void> {
    if (this.platform === 'linux' && !this.env.DISPLAY) {
      throw new HotkeysUnavailable(
        this.env.WAYLAND_DISPLAY
          ? 'this Wayland session has no X display (DISPLAY) for global keys; run the app under XWayland'
          : 'there is no display server (DISPLAY is not set)',
      );
    }
    let hook: Uiohook;
    try {
      hook = this.load();
    } catch (error) {
      throw new HotkeysUnavailable(`the uiohook-napi module could not be loaded (${(error as Error).message})`);
    }
    this.names = new Map(Object.entries(hook.UiohookKey).map(([name, code]) => [code as number, name]));
    const forward = (down: boolean) => (e: { keycode: number; ctrlKey: boolean; shiftKey: boolean; altKey: boolean; metaKey: boolean }) => {
      const modifiers: Modifier[] = [];
      if (e.ctrlKey) modifiers.push('Ctrl');
      if (e.shiftKey) modifiers.push('Shift');
      if (e.altKey) modifiers.push('Alt');
      if (e.metaKey) modifiers.push('Meta');
      listener({ key: this.names.get(e.keycode) ?? null, down, modifiers });
    };
    hook.uIOhook.on('keydown', forward(true));
    hook.uIOhook.on('keyup', forward(false));
    hook.uIOhook.start();
    this.hook = hook;
  }

  async stop(): Promise<void> {
    this.hook?.uIOhook.removeAllListeners();
    this.hook?.uIOhook.stop();
    this.hook = undefined;
  }
}
