import type { AppAdapter } from 'electron-updater/out/AppAdapter';

export interface NodeAppAdapterOptions {
  version: string;
  name: string;
  /** electron-updater keeps its staging id here. */
  userDataDir: string;
  /** Downloads go to `<cacheDir>/<updaterCacheDirName>/pending`. */
  cacheDir: string;
  /** The app-update.yml electron-builder writes into resources/ (it names the updater cache directory). */
  appUpdateConfigPath: string;
  /** What quitting means outside Electron: the host decides (a headless station exits its process). */
  quit?: () => void;
  relaunch?: () => void;
}

/**
 * electron-updater's view of the application when no Electron `app` exists: headless stations and tests.
 * It reports itself packaged, because the updater refuses to run for an unpackaged app.
 */
export class NodeAppAdapter implements AppAdapter {
  readonly version: string;
  readonly name: string;
  readonly isPackaged = true;
  readonly appUpdateConfigPath: string;
  readonly userDataPath: string;
  readonly baseCachePath: string;
  private readonly quitHandlers: ((exitCode: number) => void)[] = [];

  constructor(private readonly options: NodeAppAdapterOptions) {
    this.version = options.version;
    this.name = options.name;
    this.appUpdateConfigPath = options.appUpdateConfigPath;
    this.userDataPath = options.userDataDir;
    this.baseCachePath = options.cacheDir;
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }

  relaunch(): void {
    this.options.relaunch?.();
  }

  quit(): void {
    for (const handler of this.quitHandlers.splice(0)) handler(0);
    this.options.quit?.();
  }

  onQuit(handler: (exitCode: number) => void): void {
    this.quitHandlers.push(handler);
  }
}
