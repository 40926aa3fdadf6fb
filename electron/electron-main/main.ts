// The Electron main process: one window, a tray, the IPC transport and the engine. The decisions
// (who may talk to us, where the page may go) live in the modules beside this one, so they are tested without Electron.
// First, before any module can queue work on libuv's threadpool: see threadpool.ts.
import './threadpool';
import path from 'node:path';
import { app, BrowserWindow, dialog, globalShortcut, ipcMain, Menu, nativeImage, protocol, session, shell, Tray } from 'electron';
import { givenControlEndpoint } from '../control/control-flags';
import { ControlDispatcher } from '../control/dispatcher';
import { startRememberedBridge } from '../control/remembered-endpoint';
import { restoreRememberedDevices, withSettings } from '../control/settings-control';
import { withUpdates } from '../control/update-commands';
import type { ControlEndpoint, StationControl } from '../common/contract';
import { composeStationControl } from '../compose/station';
import { toAccelerator } from '../hotkeys/accelerator';
import { UiohookKeySource } from '../hotkeys/uiohook-source';
import { withGlobalPushToTalk } from '../hotkeys/with-global-ptt';
import { SettingsStore } from '../settings/store';
import { createAppLog } from './app-log';
import type { Log } from '../common/log';
import { serveAppRequest } from './app-protocol';
import { forwardEvents, registerControlIpc } from './ipc';
import { APP_ENTRY_URL, APP_SCHEME, decideNavigation, decidePermission, decideWindowOpen } from './security';
import { trayIconBitmap } from './tray-icon';
import { readPackagedFeedUrl } from '../update/app-update-config';
import { activityOf, UnmanagedUpdates, type UpdateCommands, UpdateControl } from '../update/update-control';
import { createAppUpdateService } from '../update/update-factory';

// Bundled by build/bundle-main.mjs: dist/main/{main,preload}.js next to dist/renderer/.
const RENDERER_ROOT = path.join(__dirname, '..', 'renderer');
const PRELOAD = path.join(__dirname, 'preload.js');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();

let mainWindow: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;
/** Set once the station has left its lines, so the deferred quit can proceed. */
let stationLeft = false;

function lockDownContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => {
      if (decideNavigation(event.url) === 'deny') event.preventDefault();
    });
    contents.on('will-frame-navigate', (event) => {
      if (decideNavigation(event.url) === 'deny') event.preventDefault();
    });
    contents.on('will-redirect', (event) => {
      if (decideNavigation(event.url) === 'deny') event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const decision = decideWindowOpen(url);
      if (decision.openExternally) void shell.openExternal(url);
      return { action: decision.action };
    });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(decidePermission(permission, details.requestingUrl));
  });
  session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    decidePermission(permission, requestingOrigin),
  );
}

function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const answer = await serveAppRequest(RENDERER_ROOT, request.url, request.method);
    return new Response(answer.body as ConstructorParameters<typeof Response>[0], { status: answer.status, headers: answer.headers });
  });
}

function showWindow(dispatcher: ControlDispatcher): void {
  if (mainWindow) {
    mainWindow.show();
    mainWindow.focus();
    return;
  }
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 640,
    minHeight: 480,
    show: false,
    backgroundColor: '#101317',
    title: 'Partyline',
    autoHideMenuBar: true,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  mainWindow = window;
  const stopEvents = forwardEvents(dispatcher, window.webContents);
  window.once('ready-to-show', () => window.show());
  // Closing the window keeps the station on air; quitting is explicit, from the tray.
  window.on('close', (event) => {
    if (!quitting) {
      event.preventDefault();
      window.hide();
    }
  });
  window.on('closed', () => {
    stopEvents();
    mainWindow = null;
  });
  void window.loadURL(APP_ENTRY_URL);
}

function createTray(dispatcher: ControlDispatcher): void {
  const { buffer, width, height } = trayIconBitmap();
  tray = new Tray(nativeImage.createFromBitmap(buffer, { width, height }));
  tray.setToolTip('Partyline');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Show Partyline', click: () => showWindow(dispatcher) },
      { type: 'separator' },
      { label: 'Quit', click: () => app.quit() },
    ]),
  );
  tray.on('click', () => showWindow(dispatcher));
}

/** The updater, when this build can update itself; otherwise an answer saying why not, for the Updates screen. */
async function createUpdates(store: SettingsStore, station: StationControl, log: Log): Promise<UpdateCommands> {
  const version = app.getVersion();
  if (!app.isPackaged) return new UnmanagedUpdates(version, 'This is a development build: only installed builds update themselves.');
  try {
    const feedUrl = await readPackagedFeedUrl(path.join(process.resourcesPath, 'app-update.yml'));
    const service = createAppUpdateService({ feedUrl, channel: store.get().updateChannel });
    return new UpdateControl({
      service,
      engineActivity: async () => activityOf(await station.invoke('station.getState', {})),
      rememberChannel: (channel) => store.update({ updateChannel: channel }),
    });
  } catch (error) {
    log.child({ component: 'partyline' }).warn(`updates are off: ${String(error)}`);
    return new UnmanagedUpdates(version, `Updates are off: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function start(given: Partial<ControlEndpoint>): Promise<void> {
  lockDownContents();
  serveRenderer();
  const userData = app.getPath('userData');
  const log = createAppLog(path.join(userData, 'logs'));
  const store = new SettingsStore(path.join(userData, 'settings.json'));
  await store.load();
  for (const notice of store.notices) log.child({ component: 'settings' }).warn(notice.message);
  // userData holds the generated TLS certificate (when hosting) and the pinned certificates of hosts joined.
  const engine = composeStationControl({ version: app.getVersion(), dataDir: userData, log, lan: {} });
  const configured = withSettings(engine, store);
  const updates = await createUpdates(store, configured, log);
  // Global push-to-talk: hotkeys held anywhere on the desktop key their lines (uiohook-napi, loaded only if used).
  const station = await withGlobalPushToTalk(withUpdates(configured, updates), store.get(), new UiohookKeySource(), {
    // uiohook only listens; a grab of another application's would keep the key from us. Registering tells (and is
    // undone at once: grabbing it ourselves would keep it from everyone else).
    isTaken: (hotkey) => {
      const accelerator = toAccelerator(hotkey);
      try {
        if (!globalShortcut.register(accelerator, () => undefined)) return true;
        globalShortcut.unregister(accelerator);
        return false;
      } catch {
        return false;
      }
    },
  });
  const controlLog = log.child({ component: 'control' });
  const dispatcher = new ControlDispatcher(station, { transport: 'ipc', reportFault: (m) => controlLog.error(m) });
  registerControlIpc(ipcMain, dispatcher);
  // Hardware panels (Stream Deck, Companion) drive the app over the control WebSocket, on loopback, at the port and
  // token remembered in the settings (--control-port/--control-token to choose them).
  const panels = await startRememberedBridge({ control: station, host: '127.0.0.1', staticRoot: RENDERER_ROOT, reportFault: (m) => controlLog.error(m) }, given, store, log).then(
    ({ bridge, address }) => {
      log.info(`Control surface: ${address.url}`);
      return bridge;
    },
    (error: unknown) => {
      controlLog.error(`no control WebSocket for panels: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    },
  );
  // On first launch nothing is remembered: the system default microphone and speaker open, as a new user expects.
  await restoreRememberedDevices(engine, store, { openDefaults: true }).catch((error: unknown) => {
    log.child({ component: 'audio' }).error(`could not open the devices: ${String(error)}`);
  });
  createTray(dispatcher);
  showWindow(dispatcher);
  // Checked once per start; the operator checks again from the Updates screen. Failures show there, not here.
  if (updates.state().phase !== 'unmanaged') void updates.check();
  app.on('second-instance', () => showWindow(dispatcher));
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', (event) => {
    if (stationLeft) return;
    event.preventDefault();
    void station
      .invoke('station.disconnect', {})
      .catch(() => undefined)
      .finally(() => {
        stationLeft = true;
        void panels?.close();
        void station.close();
        tray?.destroy();
        // The log's last lines (the station leaving) reach the file before the process ends.
        void log.close().finally(() => app.quit());
      });
  });
}

/** --control-port=N and --control-token=TOKEN on the app's command line, checked as the station CLI checks them. */
function controlSwitches(): Partial<ControlEndpoint> | null {
  const given = (name: string) => app.commandLine.getSwitchValue(name) || undefined;
  try {
    return givenControlEndpoint({ 'control-port': given('control-port'), 'control-token': given('control-token') });
  } catch (error) {
    // A switch given wrong stops the app before it opens anything: carrying on would leave the panels set up against
    // the port or token the operator meant finding nothing, with the reason only in a log file.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[partyline] ${message}`);
    dialog.showErrorBox('Partyline cannot start', message);
    app.exit(2);
    return null;
  }
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.whenReady().then(
    () => {
      const given = controlSwitches();
      if (given) return start(given);
    },
    (error: unknown) => {
      console.error(`[partyline] failed to start: ${String(error)}`);
      app.exit(1);
    },
  );
}
