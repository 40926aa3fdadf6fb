// One call for a headless station to offer its UI: settings in front of the station, remembered devices
// restored, the bridge started, and the URL to open printed for the operator.
import type { Log } from '../common/log';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { StationControl } from '../common/contract';
import { SettingsStore } from '../settings/store';
import { restoreRememberedDevices, withSettings } from './settings-control';
import { startRememberedBridge } from './remembered-endpoint';
import type { ControlBridgeAddress } from './ws-bridge';

/** Where `npm run build:renderer` puts the renderer. */
export const DEFAULT_RENDERER_ROOT = path.resolve(__dirname, '..', '..', 'dist', 'renderer');

export interface ControlSurfaceOptions {
  control: StationControl;
  /** settings.json location; settings commands go to the station itself when absent. */
  settingsFile?: string;
  host?: string;
  /** Given port and token; otherwise those remembered in the settings file (picked and remembered at first). */
  port?: number;
  allowRemote?: boolean;
  token?: string;
  rendererRoot?: string;
  log: Log;
}

export interface ControlSurface extends ControlBridgeAddress {
  close(): Promise<void>;
}

export async function serveControlSurface(options: ControlSurfaceOptions): Promise<ControlSurface> {
  const { log } = options;
  const settingsLog = log.child({ component: 'settings' });
  const controlLog = log.child({ component: 'control' });
  const rendererRoot = options.rendererRoot ?? DEFAULT_RENDERER_ROOT;
  let control = options.control;
  let store: SettingsStore | undefined;
  if (options.settingsFile) {
    store = new SettingsStore(options.settingsFile);
    await store.load();
    for (const notice of store.notices) settingsLog.warn(notice.message);
    control = withSettings(options.control, store);
    await restoreRememberedDevices(options.control, store).catch((error: unknown) => {
      settingsLog.error(`could not restore remembered devices: ${String(error)}`);
    });
  }
  const { bridge, address } = await startRememberedBridge(
    {
      control,
      host: options.host ?? '127.0.0.1',
      allowRemote: options.allowRemote ?? false,
      staticRoot: rendererRoot,
      reportFault: (m) => controlLog.error(m),
    },
    {
      ...(options.port ? { port: options.port } : {}),
      ...(options.token === undefined ? {} : { token: options.token }),
    },
    store,
    log,
  );
  if (!existsSync(path.join(rendererRoot, 'index.html'))) {
    log
      .child({ component: 'ui' })
      .warn(`no renderer at ${rendererRoot}: run npm run build:renderer (the /control WebSocket works regardless)`);
  }
  log.info(`Control surface: ${address.url}`);
  return { ...address, close: () => bridge.close() };
}
