// The Electron shell's decisions, driven without the Electron binary.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ControlDispatcher } from '../electron/control/dispatcher';
import { serveAppRequest } from '../electron/electron-main/app-protocol';
import { forwardEvents, handleInvoke } from '../electron/electron-main/ipc';
import { decideNavigation, decidePermission, decideWindowOpen, isTrustedSender } from '../electron/electron-main/security';
import { ScriptedStation } from './contract-station.fixture';

test('only frames of the app origin are trusted senders', () => {
  assert.equal(isTrustedSender({ url: 'app://partyline/index.html' }), true);
  assert.equal(isTrustedSender({ url: 'app://partyline/' }), true);
  for (const url of ['https://evil.example/', 'app://other/index.html', 'file:///etc/passwd', 'app://user:pw@partyline/', 'about:blank', '']) {
    assert.equal(isTrustedSender({ url }), false, url);
  }
  assert.equal(isTrustedSender(null), false);
});

test('IPC from a foreign frame is refused and never reaches the station', async () => {
  const station = new ScriptedStation();
  const dispatcher = new ControlDispatcher(station, { transport: 'ipc' });
  const foreign = await handleInvoke(dispatcher, { senderFrame: { url: 'https://evil.example/frame' } }, { cmd: 'line.setTalk', input: { line: 'A', on: true } });
  assert.deepEqual(foreign, { ok: false, error: { code: 'forbidden', message: 'IPC from a frame outside the app origin refused' } });
  const detached = await handleInvoke(dispatcher, { senderFrame: null }, { cmd: 'station.getState', input: {} });
  assert.equal(detached.ok ? null : detached.error.code, 'forbidden');
  assert.equal(station.calls.length, 0);
  const ours = await handleInvoke(dispatcher, { senderFrame: { url: 'app://partyline/index.html' } }, { cmd: 'station.getState', input: {} });
  assert.equal(ours.ok, true);
  const shapeless = await handleInvoke(dispatcher, { senderFrame: { url: 'app://partyline/index.html' } }, 'station.getState');
  assert.equal(shapeless.ok ? null : shapeless.error.field, 'cmd');
});

test('events are not sent to a window that navigated away from the app', () => {
  const station = new ScriptedStation();
  const dispatcher = new ControlDispatcher(station, { transport: 'ipc' });
  const sent: unknown[] = [];
  const sink = { isDestroyed: () => false, mainFrame: { url: 'app://partyline/index.html' }, send: (...args: unknown[]) => void sent.push(args) };
  const stop = forwardEvents(dispatcher, sink);
  station.emit('notice', { level: 'info', message: 'one' });
  sink.mainFrame = { url: 'https://evil.example/' };
  station.emit('notice', { level: 'info', message: 'two' });
  stop();
  assert.deepEqual(sent, [['partyline:event', 'notice', { level: 'info', message: 'one' }]]);
  assert.equal(station.listenerCount, 0);
});

test('permissions: everything denied except clipboard writes from our own page', () => {
  for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read', 'hid', 'unknown']) {
    assert.equal(decidePermission(permission, 'app://partyline/index.html'), false, permission);
  }
  assert.equal(decidePermission('clipboard-sanitized-write', 'app://partyline/index.html'), true);
  assert.equal(decidePermission('clipboard-sanitized-write', 'https://evil.example/'), false);
});

test('navigation stays in the app; new windows are denied, https goes to the system browser', () => {
  assert.equal(decideNavigation('app://partyline/index.html#devices'), 'allow');
  assert.equal(decideNavigation('https://evil.example/'), 'deny');
  assert.equal(decideNavigation('file:///etc/passwd'), 'deny');
  assert.deepEqual(decideWindowOpen('https://docs.example/partyline'), { action: 'deny', openExternally: true });
  assert.deepEqual(decideWindowOpen('http://plain.example/'), { action: 'deny', openExternally: false });
  assert.deepEqual(decideWindowOpen('javascript:alert(1)'), { action: 'deny', openExternally: false });
});

test('app:// protocol serves renderer files with the CSP and refuses foreign hosts and traversal', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'partyline-app-'));
  try {
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>Partyline</title>');
    const index = await serveAppRequest(root, 'app://partyline/');
    assert.equal(index.status, 200);
    assert.match(Buffer.from(index.body).toString(), /Partyline/);
    assert.match(index.headers['Content-Security-Policy'] ?? '', /script-src 'self'/);
    assert.equal((await serveAppRequest(root, 'app://elsewhere/index.html')).status, 404);
    assert.equal((await serveAppRequest(root, 'app://partyline/%2e%2e/%2e%2e/etc/passwd')).status, 404);
    assert.equal((await serveAppRequest(root, 'app://partyline/index.html', 'POST')).status, 405);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the bundled main process sizes the threadpool before it loads any other module', async () => {
  const outDir = await mkdtemp(path.join(tmpdir(), 'partyline-main-bundle-'));
  try {
    const { bundleMain } = (await import(path.join(__dirname, '..', 'build', 'bundle-main.mjs'))) as {
      bundleMain: (options: { outDir: string; log: (line: string) => void }) => Promise<string[]>;
    };
    await bundleMain({ outDir, log: () => undefined });
    const main = await readFile(path.join(outDir, 'main.js'), 'utf8');
    const sizing = main.indexOf('process.env.UV_THREADPOOL_SIZE = ');
    const firstRequire = main.search(/\brequire\("/);
    assert.ok(sizing > 0, 'main.js sets UV_THREADPOOL_SIZE');
    assert.ok(firstRequire > sizing, 'no module is required before the threadpool is sized');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});
