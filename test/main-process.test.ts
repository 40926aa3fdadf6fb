/**
 * The real electron/electron-main/main.ts, run under Node against a stand-in for the `electron` module (the binary cannot be
 * downloaded here): its window, lockdown, IPC wiring and lifecycle are driven as Electron would drive them.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { StandInOrder } from './support/electron-stand-in';
import { launchStandInApp, type StandInApp } from './support/stand-in-app';

let app: StandInApp;
const order = <T = Record<string, unknown>>(o: Omit<StandInOrder, 'id'>): Promise<T> => app.order<T>(o);

interface State {
  record: string[];
  windows: number;
  window?: { webPreferences: Record<string, unknown>; visible: boolean; destroyed: boolean; loadedUrl?: string };
  ipcChannels: string[];
  trayMenu: string[];
  quitCalls: number;
  eventsSent: number;
}

before(async () => {
  app = launchStandInApp();
  // The window appears once start() has run (after app 'ready').
  for (let i = 0; i < 200; i++) {
    const s = await order<State>({ op: 'state' });
    if (s.window?.visible) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`main process never showed its window; its output:\n${app.output()}`);
});

after(() => {
  if (app.child.exitCode === null) app.child.kill('SIGKILL');
});

test('the window is hardened and loads the app from its own protocol', async () => {
  const s = await order<State>({ op: 'state' });
  const prefs = s.window?.webPreferences ?? {};
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.webviewTag, false);
  assert.match(String(prefs.preload), /preload\.js$/);
  assert.equal(s.window?.loadedUrl, 'app://partyline/index.html');
  assert.ok(s.record.includes('app.enableSandbox'), 'sandbox enabled for every renderer');
  assert.ok(s.record.includes('protocol.handle:app'), 'the app protocol is served');
  assert.deepEqual(s.ipcChannels, ['partyline:invoke']);
  assert.deepEqual(s.trayMenu, ['Show Partyline', '-', 'Quit']);
});

test('every web contents is locked down: no navigation away, no webviews, new windows denied', async () => {
  await order({ op: 'create-contents' });
  const away = await order<Record<string, boolean>>({ op: 'navigate', url: 'https://evil.example/' });
  assert.deepEqual(away, { 'will-navigate': true, 'will-frame-navigate': true, 'will-redirect': true, 'will-attach-webview': true });
  const inside = await order<Record<string, boolean>>({ op: 'navigate', url: 'app://partyline/index.html' });
  assert.equal(inside['will-navigate'], false, 'navigation inside the app is allowed');
  assert.deepEqual(await order({ op: 'open-window', url: 'app://partyline/other.html' }), { action: 'deny' });
  assert.deepEqual(await order({ op: 'open-window', url: 'https://docs.example/' }), { action: 'deny' });
  const s = await order<State>({ op: 'state' });
  assert.ok(s.record.includes('shell.openExternal:https://docs.example/'), 'https links open in the system browser');
});

test('permissions: the microphone request from a foreign origin is denied, clipboard writes from the app allowed', async () => {
  assert.deepEqual(await order({ op: 'permission', permission: 'media', frameUrl: 'https://evil.example/' }), { granted: false, checked: false });
  assert.deepEqual(await order({ op: 'permission', permission: 'clipboard-sanitized-write', frameUrl: 'app://partyline/index.html' }), { granted: true, checked: true });
});

test('IPC reaches the engine from the app frame only, and bad payloads name the field', async () => {
  const ok = await order<{ ok: boolean; output?: { version?: string } }>({ op: 'invoke', frameUrl: 'app://partyline/index.html', message: { cmd: 'station.getState', input: {} } });
  assert.equal(ok.ok, true, JSON.stringify(ok));
  const foreign = await order<{ ok: boolean; error?: { code: string } }>({ op: 'invoke', frameUrl: 'https://evil.example/', message: { cmd: 'station.getState', input: {} } });
  assert.equal(foreign.error?.code, 'forbidden');
  const bad = await order<{ ok: boolean; error?: { code: string; field?: string } }>({ op: 'invoke', frameUrl: 'app://partyline/index.html', message: { cmd: 'line.setTalk', input: { line: 'main', on: 'yes' } } });
  assert.equal(bad.ok, false);
  assert.match(String(bad.error?.field), /\bon\b/, JSON.stringify(bad));
});

test('closing the window keeps the station on air (hidden, not destroyed); the tray brings it back', async () => {
  const closed = await order<{ closed: boolean; visible: boolean }>({ op: 'emit-window', event: 'close' });
  assert.deepEqual(closed, { closed: false, visible: false });
  const s = await order<State>({ op: 'tray-menu', label: 'Show Partyline' });
  assert.equal(s.windows, 1, 'the same window, not a new one');
  assert.equal(s.window?.visible, true);
});

test('quitting leaves the lines first, then quits for real', async () => {
  // Quit answers no order: the process is gone first.
  app.child.send({ id: -1, op: 'tray-menu', label: 'Quit' });
  const exited = app.exited;
  assert.equal(await exited, 0, `the main process should exit 0; its output:\n${app.output()}`);
  assert.doesNotMatch(app.output(), /failed to start|Unhandled|TypeError/);
  const record = JSON.parse(/STAND-IN RECORD (.*)/.exec(app.output())?.[1] ?? '[]') as string[];
  const tail = record.filter((r) => r.startsWith('app.quit') || r === 'tray.destroy');
  // The first quit is held back while the station leaves its lines; only then does the tray go and the app quit.
  assert.deepEqual(tail, ['app.quit:deferred', 'tray.destroy', 'app.quit:done']);
});
