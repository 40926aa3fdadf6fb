// The renderer in headless Chromium against the real WebSocket bridge and a scripted station:
// inline validation, keyboard operation, device loss, meters without React re-renders, health, layout.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { holdNextPress } from '../testkit/chromium';
import type { StationControl } from '../electron/common/contract';
import { withSettings } from '../electron/control/settings-control';
import { ControlBridgeServer } from '../electron/control/ws-bridge';
import { SettingsStore } from '../electron/settings/store';
import { FIXTURE_FINGERPRINT, ScriptedStation } from './contract-station.fixture';
import { buildRenderer, collectPageErrors, launchChromium, screenshot } from './ui-harness.fixture';

// Browser globals for the page.evaluate callbacks: this file compiles without the DOM lib, and adding
// it project-wide would hide accidental DOM use in Node code.
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
declare const HTMLCanvasElement: any;
declare function getComputedStyle(element: unknown): { color: string; outlineStyle: string };

let rendererDir: string;
let scratch: string;
let browser: Browser;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'partyline-ui-'));
  rendererDir = path.join(scratch, 'renderer');
  await buildRenderer(rendererDir);
  browser = await launchChromium();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
after(async () => {
  await browser.close();
  await rm(scratch, { recursive: true, force: true });
});

interface Rig {
  station: ScriptedStation;
  page: Page;
  url: string;
  errors: string[];
}

async function openRig(options: { control?: (station: ScriptedStation) => StationControl; width?: number } = {}): Promise<Rig> {
  const station = new ScriptedStation();
  const bridge = new ControlBridgeServer({ control: options.control?.(station) ?? station, staticRoot: rendererDir });
  const { url } = await bridge.start();
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 800 } });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  cleanups.push(async () => {
    await context.close();
    await bridge.close();
    assert.deepEqual(errors, [], 'the page logged no errors');
  });
  await page.goto(url);
  await page.getByRole('tab', { name: 'Connect' }).waitFor();
  return { station, page, url, errors };
}

/** Polls a condition on the station side; the deadline only stops a hung test, it is not asserted. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`never happened: ${what}`);
}

async function joinProgram(rig: Rig, lines = ['Program']): Promise<void> {
  const { page } = rig;
  await page.getByLabel('Server URL').fill('ws://127.0.0.1:9000/');
  // A plain ws:// server is joined on purpose only.
  await page.getByLabel('Join an unencrypted ws:// server (line secrets travel in clear)').check();
  await page.getByLabel('Station name').fill('FOH');
  for (const [index, line] of lines.entries()) {
    if (index > 0) await page.getByRole('button', { name: 'Add line' }).click();
    await page.getByLabel(`Line ${index + 1}`, { exact: true }).fill(line);
  }
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByRole('status', { name: 'Station: On air' }).waitFor();
}

test('Connect: invalid values are shown inline next to each field and nothing is sent; valid values connect and are remembered', async () => {
  const settingsFile = path.join(scratch, 'connect-settings.json');
  const store = new SettingsStore(settingsFile);
  await store.load();
  const rig = await openRig({ control: (station) => withSettings(station, store) });
  const { page, station } = rig;

  await page.getByRole('button', { name: 'Connect' }).click();
  const url = page.getByLabel('Server URL');
  assert.equal(await url.getAttribute('aria-invalid'), 'true');
  const urlError = await url.getAttribute('aria-describedby');
  assert.equal(await page.locator(`#${urlError}`).textContent(), 'server url must be a ws:// or wss:// URL');
  const name = page.getByLabel('Station name');
  assert.equal(await page.locator(`#${await name.getAttribute('aria-describedby')}`).textContent(), 'station name is required');
  const line = page.getByLabel('Line 1', { exact: true });
  assert.equal(await page.locator(`#${await line.getAttribute('aria-describedby')}`).textContent(), 'line name is required');
  // A name the protocol could not carry is refused here, before anything connects, naming the field.
  await line.fill('Stage/Left');
  assert.equal(await line.getAttribute('aria-invalid'), 'true');
  assert.equal(
    await page.locator(`#${await line.getAttribute('aria-describedby')}`).textContent(),
    'line name: letters, digits, space, _ . - (starting and ending with a letter or digit)',
  );
  await line.fill('');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-invalid')), 'true', 'focus moved to the first bad field');

  // Host mode: the port is checked as a port.
  await page.getByLabel('Host on this machine').check();
  await page.getByLabel('Port').fill('70000');
  assert.equal(await page.locator(`#${await page.getByLabel('Port').getAttribute('aria-describedby')}`).textContent(), 'Too big: expected number to be <=65535');
  // An invalid ICE URL list is named too.
  await page.getByRole('button', { name: 'Add STUN/TURN server' }).click();
  assert.equal(await page.getByLabel('URLs (comma-separated)').getAttribute('aria-invalid'), 'true');
  await page.getByRole('button', { name: 'Remove ICE server 1' }).click();
  await page.getByLabel('Join a server').check();
  await screenshot(page, 'ui-connect-validation');
  assert.equal(station.calls.filter((call) => call.name === 'station.connect').length, 0, 'nothing invalid reached the station');

  await page.getByLabel('Line 1', { exact: true }).fill('Program');
  await page.getByLabel('Secret (optional)').fill('hunter2');
  await joinProgram(rig);
  const connect = station.calls.find((call) => call.name === 'station.connect');
  assert.deepEqual(connect?.input, {
    server: { kind: 'remote', url: 'ws://127.0.0.1:9000/', insecure: true },
    name: 'FOH',
    lines: [{ line: 'Program', secret: 'hunter2' }],
    iceServers: [],
  });

  // A fresh page offers the last values again (but not the secret).
  await station.invoke('station.disconnect', {});
  await page.reload();
  await page.getByLabel('Station name').waitFor();
  await page.waitForFunction(() => document.querySelector('input[autocomplete="off"]')?.value === 'FOH');
  assert.equal(await page.getByLabel('Server URL').inputValue(), 'ws://127.0.0.1:9000/');
  assert.equal(await page.getByLabel('Line 1', { exact: true }).inputValue(), 'Program');
  assert.equal(await page.getByLabel('Secret (optional)').inputValue(), '');
});

test('Connect: hosting shows where the crew joins and the certificate fingerprint; a fingerprint to trust is checked', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  // Joining: a fingerprint given to re-trust a server must be one.
  await page.getByLabel('Certificate fingerprint (optional)').fill('AB:CD');
  await page.getByRole('button', { name: 'Connect' }).click();
  const fingerprint = page.getByLabel('Certificate fingerprint (optional)');
  assert.equal(await fingerprint.getAttribute('aria-invalid'), 'true');
  assert.equal(
    await page.locator(`#${await fingerprint.getAttribute('aria-describedby')}`).textContent(),
    'fingerprint must be a SHA-256 fingerprint: 32 hex bytes separated by colons',
  );

  await page.getByLabel('Host on this machine').check();
  await page.getByLabel('Station name').fill('FOH');
  await page.getByLabel('Line 1', { exact: true }).fill('Stage Left');
  await page.getByRole('button', { name: 'Connect' }).click();
  const hosting = page.getByRole('status', { name: 'Hosting' });
  await hosting.waitFor();
  const connect = station.calls.find((call) => call.name === 'station.connect');
  assert.deepEqual(connect?.input, { server: { kind: 'host', port: 8420 }, name: 'FOH', lines: [{ line: 'Stage Left' }], iceServers: [] }, 'TLS unless asked otherwise');
  assert.deepEqual(await hosting.locator('li code').allTextContents(), ['wss://10.0.0.5:8420/']);
  assert.equal(await hosting.locator('code.fingerprint').textContent(), FIXTURE_FINGERPRINT);
  await screenshot(page, 'ui-connect-hosting');

  // Unencrypted hosting is a deliberate choice, and the banner says what it costs.
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await page.getByLabel('Unencrypted (ws://; line secrets travel in clear)').check();
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByText('Unencrypted: line secrets travel in clear.').waitFor();
  assert.deepEqual(station.calls.filter((call) => call.name === 'station.connect').at(-1)?.input, {
    server: { kind: 'host', port: 8420, insecure: true },
    name: 'FOH',
    lines: [{ line: 'Stage Left' }],
    iceServers: [],
  });
});

test('Connect: a station already on air shows what it joined, not an empty form', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  await station.invoke('station.connect', { server: { kind: 'remote', url: 'wss://10.0.0.5:8420/' }, name: 'Stage Left', lines: [{ line: 'Program' }, { line: 'Stage Left' }], iceServers: [] });
  await page.reload();
  await page.getByRole('status', { name: 'Joined' }).waitFor();
  assert.equal(await page.getByRole('status', { name: 'Joined' }).locator('code').first().textContent(), 'wss://10.0.0.5:8420/');
  assert.equal(await page.getByLabel('Server URL').inputValue(), 'wss://10.0.0.5:8420/');
  assert.equal(await page.getByLabel('Station name').inputValue(), 'Stage Left');
  assert.equal(await page.getByLabel('Line 1', { exact: true }).inputValue(), 'Program');
  assert.equal(await page.getByLabel('Line 2', { exact: true }).inputValue(), 'Stage Left');
});

test('Connect: hosts found on the LAN are listed, and one click joins one, pinning the fingerprint its record carries', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  station.lanHosts = [{ name: 'Stage Left', url: 'wss://10.0.0.7:8420/', lines: ['Program', 'Stage Left'], fingerprint: FIXTURE_FINGERPRINT }];
  const join = page.getByRole('button', { name: 'Join Stage Left' });
  await join.waitFor();
  // Without a station name the join is refused where the name goes, and nothing is sent.
  await page.getByLabel('Station name').fill('');
  await join.click();
  assert.equal(await page.getByLabel('Station name').getAttribute('aria-invalid'), 'true');
  assert.equal(station.calls.filter((call) => call.name === 'station.connect').length, 0);
  await page.getByLabel('Station name').fill('FOH');
  await join.click();
  await page.getByRole('status', { name: 'Joined' }).waitFor();
  assert.deepEqual(station.calls.find((call) => call.name === 'station.connect')?.input, {
    server: { kind: 'remote', url: 'wss://10.0.0.7:8420/', fingerprint: FIXTURE_FINGERPRINT },
    name: 'FOH',
    lines: [{ line: 'Program' }, { line: 'Stage Left' }],
    iceServers: [],
  });
});

test('Keypanel: keyboard operable with visible focus; tap latches, hold is momentary, shortcuts work', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  await joinProgram(rig, ['Program', 'Stage']);
  station.settings = { ...station.settings, talkHoldThresholdMs: 2000 };

  // Tabs are reachable and switch with the arrow keys.
  await page.getByRole('tab', { name: 'Connect' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  assert.equal(await page.getByRole('tab', { name: 'Keypanel' }).getAttribute('aria-selected'), 'true');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, 'solid', 'keyboard focus is visible');
  // Reload settings into the page so it knows the 2000 ms threshold.
  await page.reload();
  await page.getByRole('tab', { name: 'Keypanel' }).click();

  const programTalk = page.locator('[data-line="Program"] .talk-key');
  const talkOf = (line: string) => station.state.lines.find((entry) => entry.line === line)?.talk;

  // Tap (Space down/up well inside the threshold): latched.
  await programTalk.focus();
  await page.keyboard.press('Space');
  await eventually(() => talkOf('Program') === true, 'tap latched talk on Program');
  await page.locator('[data-line="Program"] .talk-key[aria-pressed="true"]').waitFor();
  await screenshot(page, 'ui-keypanel-latched');
  // Pressing a latched key unlatches it.
  await page.keyboard.press('Space');
  await eventually(() => talkOf('Program') === false, 'second tap unlatched Program');

  // The operator shortens the threshold on screen; then a hold longer than it is momentary, ending on release.
  const threshold = page.getByLabel(/Hold for momentary after/);
  await threshold.fill('50');
  await threshold.blur();
  await eventually(() => station.settings.talkHoldThresholdMs === 50, 'threshold saved from the Keypanel field');
  await page.locator('[data-line="Stage"] .talk-key').focus();
  await page.keyboard.down('Digit2');
  await eventually(() => talkOf('Stage') === true, 'holding 2 keys talk on Stage');
  await new Promise((resolve) => setTimeout(resolve, 250));
  await page.keyboard.up('Digit2');
  await eventually(() => talkOf('Stage') === false, 'releasing the held key ends talk on Stage');
  assert.deepEqual(
    station.calls.filter((call) => call.name === 'line.setTalk').map((call) => call.input),
    [
      { line: 'Program', on: true },
      { line: 'Program', on: false },
      { line: 'Stage', on: true },
      { line: 'Stage', on: false },
    ],
  );

  // Shift+1 toggles listen on strip 1; the activity light names who talks.
  await page.keyboard.press('Shift+Digit1');
  await eventually(() => station.state.lines[0]?.listen === false, 'Shift+1 turned listen off on Program');
  await page.locator('[data-line="Program"] .listen-key[aria-pressed="false"]').waitFor();
  const lines = station.state.lines.map((entry) => (entry.line === 'Stage' ? { ...entry, talkers: [{ stationId: 'b', name: 'Stage Left' }] } : entry));
  station.state = { ...station.state, lines };
  station.emit('state', station.state);
  await page.locator('[data-line="Stage"] .activity.lit').waitFor();
  assert.equal(await page.locator('[data-line="Stage"] .talkers').textContent(), 'Stage Left');

  // Volume from the keyboard.
  await page.locator('[data-line="Program"] input[type="range"]').focus();
  await page.keyboard.press('ArrowLeft');
  await eventually(() => (station.state.lines[0]?.volume ?? 1) < 1, 'volume lowered from the keyboard');
});

test('Keypanel: a tap on a keypanel busy as it lands still latches; the gesture is timed by the input events', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  await joinProgram(rig, ['Program', 'Stage']);
  station.settings = { ...station.settings, talkHoldThresholdMs: 300 };
  await page.reload();
  await page.getByRole('tab', { name: 'Keypanel' }).click();
  const programTalk = page.locator('[data-line="Program"] .talk-key');
  await programTalk.waitFor();
  // The renderer is held for 600 ms right after the press (a render, a burst of state events), bubbling to the window
  // after the key's own handler: the release is handled 600 ms later, yet the operator tapped.
  await holdNextPress(page, 600);
  await programTalk.click();
  await eventually(() => station.state.lines.find((entry) => entry.line === 'Program')?.talk === true, 'the tap latched talk on Program');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(
    station.calls.filter((call) => call.name === 'line.setTalk').map((call) => call.input),
    [{ line: 'Program', on: true }],
    'the release did not turn talk off: a tap, not a hold',
  );
});

test('Keypanel: global hotkeys edited per line; a key bound twice is named at its row, one another application holds is shown', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  await joinProgram(rig, ['Program', 'Stage']);
  await page.getByRole('tab', { name: 'Keypanel' }).click();
  await page.getByText('Global hotkeys').click();
  // Pressed in the field, a key with modifiers is spelled as the hotkey.
  await page.getByLabel('Hotkey for Program').press('Control+Shift+F12');
  assert.equal(await page.getByLabel('Hotkey for Program').inputValue(), 'Ctrl+Shift+F12');
  await page.getByLabel('Hotkey for Stage').fill('ctrl+shift+f12');
  await page.getByRole('button', { name: 'Save hotkeys' }).click();
  const stage = page.getByLabel('Hotkey for Stage');
  await page.waitForFunction(() => document.querySelector('#hotkey-Stage')?.getAttribute('aria-invalid') === 'true');
  assert.match(await page.locator(`#${await stage.getAttribute('aria-describedby')}`).textContent() ?? '', /already taken by line Program/);
  assert.equal(station.calls.filter((c) => c.name === 'settings.update').length, 0, 'nothing was saved');

  station.takenHotkeys = ['F14'];
  await stage.fill('F14');
  await page.getByRole('button', { name: 'Save hotkeys' }).click();
  await page.getByText('F14 (line Stage) is held by another application').waitFor();
  assert.deepEqual(station.settings.hotkeys, [{ hotkey: 'Ctrl+Shift+F12', line: 'Program' }, { hotkey: 'F14', line: 'Stage' }]);
  assert.equal(await page.locator('li:has(#hotkey-Program) .hotkey-ok').textContent(), 'active');
  await screenshot(page, 'ui-keypanel-hotkeys');
});

test('Devices: a remembered device that disappears is clearly reported', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  await page.getByRole('tab', { name: 'Devices' }).click();
  await page.getByLabel('Input (microphone)').selectOption('PulseAudio:Headset:0');
  await eventually(() => station.state.devices.inputId === 'PulseAudio:Headset:0', 'input selected');
  await page.getByRole('button', { name: /Test tone/ }).click();
  await eventually(() => station.toneOn, 'test tone on');
  await page.locator('button[aria-pressed="true"]', { hasText: 'Test tone' }).waitFor();

  station.unplugInput('PulseAudio:Headset:0');
  const problem = page.locator('.device-problem');
  await problem.waitFor();
  assert.match((await problem.textContent()) ?? '', /chosen input “PulseAudio:Headset:0” is not connected/);
  assert.match((await problem.textContent()) ?? '', /system default input is in use until it returns/);
  assert.equal(await problem.getAttribute('data-fallback'), 'default');
  assert.equal(await problem.getAttribute('role'), 'alert');
  assert.equal(await page.getByLabel('Input (microphone)').inputValue(), 'PulseAudio:Headset:0');
  assert.match((await page.locator('option:checked').first().textContent()) ?? '', /Missing: PulseAudio:Headset:0/);
  await screenshot(page, 'ui-devices-missing');

  // Picking another device clears the warning.
  await page.getByLabel('Input (microphone)').selectOption('PulseAudio:Desk mic:0');
  await problem.waitFor({ state: 'detached' });
});

test('Meters: frames are drawn on the canvas and its readouts with no other DOM updates; peers appear by name', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  await joinProgram(rig);
  station.emit('health', {
    peers: [{ stationId: 'stage', name: 'Stage', connection: 'connected', rttMs: 4, jitterMs: 2, lossRate: 0, playoutDelayMs: 40, targetDelayMs: 40, concealedFrames: 0 }],
  });
  await page.getByRole('tab', { name: 'Meters' }).click();
  const canvas = page.locator('canvas.meter-canvas');
  await page.waitForFunction(() => document.querySelector('canvas.meter-canvas')?.getAttribute('data-channels') === 'input output stage');

  await page.evaluate(() => {
    window.outsideCanvas = 0;
    new MutationObserver((records: { target: unknown }[]) => {
      // The board itself writes the canvas and the role="meter" readouts; anything else would be React re-rendering.
      window.outsideCanvas += records.filter(
        (record) => !(record.target instanceof HTMLCanvasElement) && (record.target as { getAttribute(name: string): string | null }).getAttribute('role') !== 'meter',
      ).length;
    }).observe(document.getElementById('root'), { subtree: true, childList: true, attributes: true, characterData: true });
  });
  for (let i = 0; i < 30; i++) {
    const level = -40 + i;
    station.emit('meters', { t: i, input: { peakDb: level, rmsDb: level - 8 }, output: { peakDb: -20, rmsDb: -26 }, peers: { stage: { peakDb: -12.5, rmsDb: -20 } } });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await page.waitForFunction(() => document.querySelector('canvas.meter-canvas')?.getAttribute('data-peakinput') === '-11.0');
  assert.equal(await canvas.getAttribute('data-peakstage'), '-12.5');
  // Screen readers (and tests) read the same levels from role="meter" readouts.
  const stage = page.getByRole('meter', { name: 'Stage level' });
  await page.waitForFunction(() => document.querySelector('[role="meter"][data-meter="input"]')?.getAttribute('data-peak-db') === '-11.0');
  assert.equal(await stage.getAttribute('data-peak-db'), '-12.5');
  assert.equal(await stage.getAttribute('aria-valuenow'), '-12.5');
  assert.equal(await stage.getAttribute('aria-valuetext'), 'Stage: peak -12.5 dBFS, RMS -20.0 dBFS');
  // The level falls away: the bar follows at once, the peak-hold marker stays at the peak, then decays.
  station.emit('meters', { t: 30, input: { peakDb: -45, rmsDb: -50 }, output: { peakDb: -20, rmsDb: -26 }, peers: { stage: { peakDb: -12.5, rmsDb: -20 } } });
  await page.waitForFunction(() => document.querySelector('canvas.meter-canvas')?.getAttribute('data-peakinput') === '-45.0');
  assert.equal(await canvas.getAttribute('data-holdinput'), '-11.0', 'peak hold after the level fell');
  await page.waitForFunction(() => Number(document.querySelector('canvas.meter-canvas')?.getAttribute('data-holdinput')) < -11);
  assert.ok(Number(await canvas.getAttribute('data-holdinput')) >= -45, 'the hold decays towards the level, not below it');
  assert.equal(await page.evaluate(() => window.outsideCanvas as number), 0, 'React did not re-render for meter frames');
  await screenshot(page, 'ui-meters');
});

test('Health: per-station rows, degraded links flagged in words and colour', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  await page.getByRole('tab', { name: 'Health' }).click();
  station.emit('health', {
    peers: [
      { stationId: 'a', name: 'Stage', connection: 'connected', rttMs: 4, jitterMs: 2, lossRate: 0.001, playoutDelayMs: 40, targetDelayMs: 40, concealedFrames: 0 },
      { stationId: 'b', name: 'Truck', connection: 'connected', rttMs: 80, jitterMs: 12, lossRate: 0.08, playoutDelayMs: 60, targetDelayMs: 60, concealedFrames: 31 },
      { stationId: 'c', name: 'Booth', connection: 'no-rtp', rttMs: null, jitterMs: 0, lossRate: 0, playoutDelayMs: 0, targetDelayMs: 40, concealedFrames: 0 },
      { stationId: 'd', name: 'Desk', connection: 'connected', rttMs: 1, jitterMs: 0.2, lossRate: 0, playoutDelayMs: 3, targetDelayMs: 2, lowLatency: true, concealedFrames: 0 },
    ],
    speaker: { marginMs: 18, drainMs: 6, tickWaitMs: 1.2, underruns: 2, deviceUnderflows: 1, deviceBufferMs: 10 },
  });
  await page.locator('tr[data-station="c"]').waitFor();
  assert.equal(
    ((await page.getByTestId('speaker-margin').textContent()) ?? '').replace(/\s+/g, ' '),
    'Speaker margin 18 ms (covers 6 ms of device requests and scheduling jitter), 2 underruns (1 in the device); the device buffers 10 ms more',
    'the speaker margin the machine needs, and what it covers',
  );
  assert.equal(await page.locator('tr[data-station="a"]').getAttribute('class'), 'healthy');
  const cells = async (station: string) => (await page.locator(`tr[data-station="${station}"] td`).allTextContents()).map((t) => t.trim());
  // State, RTT, jitter, loss, playout / target, concealed.
  assert.deepEqual(await cells('a'), ['connected', '4 ms', '2 ms', '0.1%', '40 ms / 40 ms', '0']);
  assert.deepEqual((await cells('c')).slice(1, 3), ['—', '0 ms'], 'no RTT measured yet is shown as such');
  assert.equal((await cells('d'))[4], '3 ms / 2 ms low latency', 'a link playing each packet at the next pull says so');
  assert.equal(await page.locator('tr[data-station="d"]').getAttribute('class'), 'healthy');
  assert.equal(await page.locator('tr[data-station="b"]').getAttribute('class'), 'degraded');
  assert.match((await page.locator('tr[data-station="b"]').textContent()) ?? '', /packet loss.*8\.0%/);
  assert.match((await page.locator('tr[data-station="c"]').textContent()) ?? '', /no audio arriving/);
  const colour = await page.locator('tr[data-station="b"] td').first().evaluate((cell) => getComputedStyle(cell).color);
  const healthyColour = await page.locator('tr[data-station="a"] td').first().evaluate((cell) => getComputedStyle(cell).color);
  assert.notEqual(colour, healthyColour);
  await screenshot(page, 'ui-health');
});

for (const width of [1280, 640]) {
  test(`layout at ${width}x800: every screen fits without horizontal scrolling`, async () => {
    const rig = await openRig({ width });
    const { page, station } = rig;
    await joinProgram(rig, ['Program', 'Stage', 'Production']);
    station.emit('health', {
      peers: [{ stationId: 'b', name: 'Truck', connection: 'connected', rttMs: 80, jitterMs: 12, lossRate: 0.08, playoutDelayMs: 60, targetDelayMs: 60, concealedFrames: 31 }],
    });
    for (const screen of ['Connect', 'Devices', 'Keypanel', 'Meters', 'Health', 'Updates']) {
      await page.getByRole('tab', { name: screen }).click();
      await page.getByRole('heading', { name: screen, level: 2 }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${screen} at ${width}px overflows by ${overflow}px`);
      await screenshot(page, `ui-${screen.toLowerCase()}-${width}`);
    }
  });
}

test('notices from the station are shown and can be dismissed', async () => {
  const rig = await openRig();
  const { page, station } = rig;
  station.emit('notice', { level: 'warn', message: 'Settings file was unreadable; started from defaults.' });
  const notice = page.getByRole('status').filter({ hasText: 'Settings file was unreadable' });
  await notice.waitFor();
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await notice.waitFor({ state: 'detached' });
});

test('a page opened with the wrong token says so instead of silently failing', async () => {
  const rig = await openRig();
  const wrong = rig.url.replace(/#token=.*/, '#token=not-the-token-at-all');
  await rig.page.goto('about:blank');
  await rig.page.goto(wrong);
  await rig.page.getByRole('alert').filter({ hasText: 'Control link refused' }).waitFor();
  // The refused link is logged by Chromium as a failed WebSocket; that is the expected outcome here.
  rig.errors.splice(0);
});
