// The Updates screen in headless Chromium, over the real WebSocket bridge, with the update commands backed by the
// real FeedUpdateService (electron-updater's DebUpdater: HTTP, sha512 verification) against a feed on loopback.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { withUpdates } from '../electron/control/update-commands';
import { ControlBridgeServer } from '../electron/control/ws-bridge';
import { activityOf, UpdateControl } from '../electron/update/update-control';
import { ScriptedStation } from './contract-station.fixture';
import { feedUpdateService, UpdateFeed } from './support/update-feed';
import { buildRenderer, collectPageErrors, launchChromium, screenshot } from './ui-harness.fixture';

declare const document: any;

let scratch: string;
let rendererDir: string;
let browser: Browser;
const feed = new UpdateFeed();

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'partyline-ui-update-'));
  rendererDir = path.join(scratch, 'renderer');
  await buildRenderer(rendererDir);
  await feed.start();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await feed.stop();
  await rm(scratch, { recursive: true, force: true });
});

test('Updates: found on the beta channel, download progress, restart to update asks first while talk is latched', async () => {
  const stableBuild = randomBytes(64 * 1024);
  const betaBuild = randomBytes(2 * 1024 * 1024);
  feed.publish('latest', '1.0.0', stableBuild);
  const betaFile = feed.publish('beta', '1.1.0-beta.1', betaBuild);
  // Slow enough that the page sees the download in progress.
  feed.throttleMs = 300;

  const { service, pendingDir } = feedUpdateService(feed, scratch, '1.0.0', 'stable');
  // The one step not run for real: installing runs `dpkg -i` through pkexec/sudo on this machine.
  const installs: string[] = [];
  service.quitAndInstall = () => void installs.push(service.downloaded?.version ?? 'nothing');
  const station = new ScriptedStation();
  const remembered: string[] = [];
  const updates = new UpdateControl({
    service,
    engineActivity: async () => activityOf(await station.invoke('station.getState', {})),
    rememberChannel: async (channel) => remembered.push(channel),
  });
  const bridge = new ControlBridgeServer({ control: withUpdates(station, updates), staticRoot: rendererDir });
  const { url } = await bridge.start();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    // As the app does on start.
    await updates.check();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(url);
    await page.getByRole('tab', { name: 'Updates' }).click();
    const status = page.locator('.update-status');
    assert.equal(await page.getByTestId('current-version').textContent(), '1.0.0');
    assert.equal(await page.getByLabel('Release channel').inputValue(), 'stable');
    await page.locator('.update-status[data-phase="up-to-date"]').waitFor();
    assert.equal(await status.textContent(), 'Partyline is up to date on the stable channel.');

    // Switching to beta checks that channel at once, and is remembered.
    await page.getByLabel('Release channel').selectOption('beta');
    await page.locator('.update-status[data-phase="available"]').waitFor();
    assert.equal(await status.textContent(), 'Version 1.1.0-beta.1 is available on the beta channel.');
    assert.deepEqual(remembered, ['beta']);
    assert.equal(await page.locator('.release-notes').textContent(), 'Release 1.1.0-beta.1');
    await screenshot(page, 'ui-update-available');

    // Download: progress is shown while bytes arrive, then the verified file waits for a restart.
    await page.evaluate(() => {
      const seen: number[] = ((globalThis as any).progressSeen = []);
      setInterval(() => {
        const bar = document.querySelector('progress.update-progress');
        if (bar) seen.push(Number(bar.value));
      }, 20);
    });
    await page.getByRole('button', { name: 'Download 1.1.0-beta.1' }).click();
    await page.getByRole('progressbar', { name: 'Download progress' }).waitFor();
    await page.waitForFunction(() => (globalThis as any).progressSeen.some((value: number) => value > 0 && value < 100));
    await screenshot(page, 'ui-update-progress');
    await page.locator('.update-status[data-phase="downloaded"]').waitFor();
    assert.equal(await status.textContent(), 'Version 1.1.0-beta.1 is downloaded and verified. Restart Partyline to use it.');
    const seen = (await page.evaluate(() => (globalThis as any).progressSeen)) as number[];
    assert.ok(seen.some((value) => value > 0 && value < 100), `progress between 0 and 100 % was shown (${seen.join(', ')})`);
    assert.deepEqual(readFileSync(path.join(pendingDir, betaFile)), betaBuild, 'the verified download is waiting');

    // On air with talk latched: restarting asks first, and "Stay on air" (the focused answer) keeps everything.
    await station.invoke('station.connect', { server: { kind: 'remote', url: 'ws://127.0.0.1:9/', insecure: true }, name: 'FOH', lines: [{ line: 'Program' }], iceServers: [] });
    await station.invoke('line.setTalk', { line: 'Program', on: true });
    await page.getByRole('button', { name: 'Restart to update' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Restart now and go off the air?' });
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /Right now talk is on for 1 line and 1 line is active\. Restarting into version 1\.1\.0-beta\.1/);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Stay on air', 'the safe answer has the focus');
    await screenshot(page, 'ui-update-confirm-restart');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(installs, [], 'declining leaves the station running');
    assert.equal(await page.locator('.update-status[data-phase="downloaded"]').count(), 1);

    // Confirming restarts into the update.
    await page.getByRole('button', { name: 'Restart to update' }).click();
    await dialog.getByRole('button', { name: 'Restart anyway' }).click();
    await page.locator('.update-status', { hasText: 'Restarting into the new version…' }).waitFor();
    assert.deepEqual(installs, ['1.1.0-beta.1']);
    assert.deepEqual(errors, [], 'the page logged no errors');
  } finally {
    await context.close();
    await bridge.close();
  }
});

test('Updates: "Check for updates" on demand; a feed that is down is reported on screen, and the next check recovers', async () => {
  feed.throttleMs = 0;
  feed.publish('latest', '1.0.0', randomBytes(16 * 1024));
  const { service } = feedUpdateService(feed, scratch, '1.0.0', 'stable');
  const station = new ScriptedStation();
  const updates = new UpdateControl({
    service,
    engineActivity: async () => activityOf(await station.invoke('station.getState', {})),
    rememberChannel: async () => undefined,
  });
  const bridge = new ControlBridgeServer({ control: withUpdates(station, updates), staticRoot: rendererDir });
  const { url } = await bridge.start();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const port = feed.port;
  try {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(url);
    await page.getByRole('tab', { name: 'Updates' }).click();
    const status = page.locator('.update-status');
    const check = page.getByRole('button', { name: 'Check for updates' });

    await check.click();
    await page.locator('.update-status[data-phase="up-to-date"]').waitFor();

    // The feed goes down: the check fails with the reason, as an alert, and the rest of the app keeps working.
    await feed.stop();
    await check.click();
    await page.locator('.update-status[data-phase="error"]').waitFor();
    assert.equal(await status.getAttribute('role'), 'alert');
    assert.match((await status.textContent()) ?? '', new RegExp(`update feed http://127\\.0\\.0\\.1:${port}/partyline/ is unreachable \\(ECONNREFUSED\\)`));
    await screenshot(page, 'ui-update-feed-down');
    await page.getByRole('tab', { name: 'Keypanel' }).click();
    await page.getByRole('heading', { name: 'Keypanel' }).waitFor();

    // Back up, with a newer release: checking again finds it.
    await feed.start(port);
    feed.publish('latest', '1.0.1', randomBytes(16 * 1024));
    await page.getByRole('tab', { name: 'Updates' }).click();
    await check.click();
    await page.locator('.update-status[data-phase="available"]').waitFor();
    assert.equal(await status.textContent(), 'Version 1.0.1 is available on the stable channel.');
    assert.deepEqual(errors, [], 'the page logged no errors');
  } finally {
    await context.close();
    await bridge.close();
  }
});
