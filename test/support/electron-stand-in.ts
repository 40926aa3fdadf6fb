/**
 * A stand-in for the `electron` module, so that the real electron/electron-main/main.ts runs under Node (the Electron binary
 * cannot be downloaded here). It implements only what main.ts touches, records what main.ts does with it, and
 * takes orders from the test over the child-process IPC channel: emit an app, window or web-contents event, call
 * a registered handler, invoke the IPC channel as some frame, and report back.
 *
 * Loaded with `--require` before main.ts: it points every `require('electron')` at itself.
 */
import { EventEmitter } from 'node:events';
import Module from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

type Handler = (...args: unknown[]) => unknown;

export interface StandInOrder {
  id: number;
  op: 'emit-app' | 'emit-window' | 'create-contents' | 'navigate' | 'open-window' | 'permission' | 'invoke' | 'state' | 'tray-menu';
  event?: string;
  url?: string;
  permission?: string;
  frameUrl?: string | null;
  message?: unknown;
  label?: string;
}

const record: string[] = [];
const windows: StandInWindow[] = [];
const contentsList: StandInContents[] = [];
const ipcHandlers = new Map<string, Handler>();
let permissionRequest: Handler | undefined;
let permissionCheck: Handler | undefined;
let trayMenu: { label?: string; click?: () => void }[] = [];
let quitCalls = 0;
let exitCode: number | undefined;

class PreventableEvent {
  defaultPrevented = false;
  constructor(readonly url?: string) {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

class StandInContents extends EventEmitter {
  readonly mainFrame = { url: 'about:blank' };
  sent: unknown[][] = [];
  windowOpenHandler: Handler | undefined;
  setWindowOpenHandler(h: Handler): void {
    this.windowOpenHandler = h;
  }
  isDestroyed(): boolean {
    return false;
  }
  send(...args: unknown[]): void {
    this.sent.push(args);
  }
}

class StandInWindow extends EventEmitter {
  readonly webContents = new StandInContents();
  visible = false;
  destroyed = false;
  loadedUrl: string | undefined;
  constructor(readonly options: Record<string, unknown>) {
    super();
    windows.push(this);
    record.push('BrowserWindow');
  }
  loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
    this.webContents.mainFrame.url = url;
    setImmediate(() => this.emit('ready-to-show'));
    return Promise.resolve();
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  focus(): void {}
  /** Electron's close: 'close' may be prevented; otherwise the window is destroyed and 'closed' follows. */
  close(): boolean {
    const event = new PreventableEvent();
    this.emit('close', event);
    if (event.defaultPrevented) return false;
    this.destroyed = true;
    this.emit('closed');
    return true;
  }
}

class StandInApp extends EventEmitter {
  readonly isPackaged = false;
  /** A test that reads what the app wrote there (its log) names the folder; otherwise a fresh one, removed at exit. */
  private readonly userData = process.env.PARTYLINE_STANDIN_USERDATA ?? mkdtempSync(path.join(tmpdir(), 'partyline-standin-userdata-'));
  constructor() {
    super();
    if (!process.env.PARTYLINE_STANDIN_USERDATA) process.on('exit', () => rmSync(this.userData, { recursive: true, force: true }));
  }
  /** Electron's switches, from this process's arguments: `--name=value`. */
  readonly commandLine = {
    getSwitchValue(name: string): string {
      const prefix = `--${name}=`;
      return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length) ?? '';
    },
  };
  enableSandbox(): void {
    record.push('app.enableSandbox');
  }
  requestSingleInstanceLock(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
  getVersion(): string {
    return '0.0.0-standin';
  }
  getPath(name: string): string {
    if (name !== 'userData') throw new Error(`stand-in app.getPath: ${name} not supported`);
    return this.userData;
  }
  /** Electron's quit: before-quit, then will-quit, either of which may prevent it. */
  quit(): void {
    quitCalls++;
    const before = new PreventableEvent();
    this.emit('before-quit', before);
    if (before.defaultPrevented) return;
    const will = new PreventableEvent();
    this.emit('will-quit', will);
    if (will.defaultPrevented) {
      record.push('app.quit:deferred');
      return;
    }
    record.push('app.quit:done');
    // The test reads what happened from the last line of output: the process is gone after this.
    process.stdout.write(`STAND-IN RECORD ${JSON.stringify(record)}\n`);
    for (const w of windows) w.destroyed = true;
    setImmediate(() => process.exit(0));
  }
  exit(code = 0): void {
    exitCode = code;
    record.push(`app.exit:${code}`);
    process.exit(code);
  }
}

const app = new StandInApp();

const electron = {
  app,
  BrowserWindow: StandInWindow,
  ipcMain: {
    handle: (channel: string, h: Handler) => ipcHandlers.set(channel, h),
    removeHandler: (channel: string) => ipcHandlers.delete(channel),
  },
  /** An error box is the last thing a refused start shows: the test reads it from the output, as the process ends. */
  dialog: {
    showErrorBox: (title: string, content: string) => {
      record.push('dialog.showErrorBox');
      process.stdout.write(`STAND-IN ERROR BOX ${JSON.stringify({ title, content })}\n`);
    },
  },
  Menu: { buildFromTemplate: (template: { label?: string; click?: () => void }[]) => ((trayMenu = template), { template }) },
  nativeImage: { createFromBitmap: () => ({}) },
  protocol: {
    registerSchemesAsPrivileged: (schemes: unknown) => record.push(`protocol.registerSchemesAsPrivileged:${JSON.stringify(schemes)}`),
    handle: (scheme: string) => record.push(`protocol.handle:${scheme}`),
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (h: Handler) => (permissionRequest = h),
      setPermissionCheckHandler: (h: Handler) => (permissionCheck = h),
    },
  },
  shell: { openExternal: (url: string) => (record.push(`shell.openExternal:${url}`), Promise.resolve()) },
  /** No other application holds any key here. */
  globalShortcut: { register: () => true, unregister: () => undefined },
  Tray: class extends EventEmitter {
    destroyed = false;
    setToolTip(): void {}
    setContextMenu(): void {}
    destroy(): void {
      this.destroyed = true;
      record.push('tray.destroy');
    }
  },
};

const resolve = (Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string })._resolveFilename;
(Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string })._resolveFilename = function (request, ...rest) {
  if (request === 'electron') return __filename;
  return resolve.call(this, request, ...rest);
};
module.exports = electron;

function state() {
  const w = windows.at(-1);
  return {
    record,
    windows: windows.length,
    window: w && { webPreferences: w.options.webPreferences, visible: w.visible, destroyed: w.destroyed, loadedUrl: w.loadedUrl },
    ipcChannels: [...ipcHandlers.keys()],
    trayMenu: trayMenu.map((i) => i.label ?? '-'),
    quitCalls,
    exitCode,
    eventsSent: w ? w.webContents.sent.length : 0,
  };
}

async function obey(order: StandInOrder): Promise<unknown> {
  switch (order.op) {
    case 'state':
      return state();
    case 'emit-app': {
      const event = new PreventableEvent();
      app.emit(order.event as string, event);
      return { defaultPrevented: event.defaultPrevented };
    }
    case 'emit-window': {
      const w = windows.at(-1);
      if (!w) throw new Error('no window');
      if (order.event === 'close') return { closed: w.close(), visible: w.visible };
      w.emit(order.event as string);
      return { visible: w.visible };
    }
    case 'create-contents': {
      const contents = new StandInContents();
      contentsList.push(contents);
      app.emit('web-contents-created', {}, contents);
      return { index: contentsList.length - 1 };
    }
    case 'navigate': {
      const contents = contentsList.at(-1) as StandInContents;
      const results: Record<string, boolean> = {};
      for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
        const event = new PreventableEvent(order.url);
        contents.emit(name, event);
        results[name] = event.defaultPrevented;
      }
      const webview = new PreventableEvent();
      contents.emit('will-attach-webview', webview);
      results['will-attach-webview'] = webview.defaultPrevented;
      return results;
    }
    case 'open-window': {
      const contents = contentsList.at(-1) as StandInContents;
      return contents.windowOpenHandler?.({ url: order.url });
    }
    case 'permission': {
      const granted = await new Promise((r) => permissionRequest?.({}, order.permission, r, { requestingUrl: order.frameUrl }));
      const checked = permissionCheck?.({}, order.permission, order.frameUrl);
      return { granted, checked };
    }
    case 'invoke': {
      const handler = ipcHandlers.get('partyline:invoke');
      if (!handler) throw new Error('no IPC handler registered');
      return handler({ senderFrame: order.frameUrl === null ? null : { url: order.frameUrl } }, order.message);
    }
    case 'tray-menu': {
      const item = trayMenu.find((i) => i.label === order.label);
      if (!item?.click) throw new Error(`no tray menu item ${order.label}`);
      item.click();
      return state();
    }
  }
}

process.on('message', (order: StandInOrder) => {
  obey(order).then(
    (result) => process.send?.({ id: order.id, ok: true, result }),
    (error: unknown) => process.send?.({ id: order.id, ok: false, error: String(error) }),
  );
});
