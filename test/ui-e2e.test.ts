// The renderer in headless Chromium driving a REAL headless station (`--ui`): PortAudio on PulseAudio virtual
// devices, werift peers over loopback, a second station hosting the line. What the operator does on screen must
// come out of the other station's speaker, and what the station measures must show on screen.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { PulseHarness, sleep } from '../testkit/pulse';
import { dominantFrequency, rmsDb, tone } from '../testkit/signal';
import { StationProcess } from '../testkit/station-process';
import { buildRenderer, collectPageErrors, launchChromium, screenshot } from './ui-harness.fixture';

declare const document: any;

let pulse: PulseHarness;
let scratch: string;
let rendererDir: string;
let browser: Browser;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'partyline-ui-e2e-'));
  rendererDir = path.join(scratch, 'renderer');
  await buildRenderer(rendererDir);
  pulse = await PulseHarness.start(['a', 'b']);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await pulse?.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** The peak dBFS a meter readout shows right now. */
async function meterPeakDb(page: Page, key: string): Promise<number> {
  return Number(await page.locator(`[role="meter"][data-meter="${key}"]`).first().getAttribute('data-peak-db'));
}

/** Waits until a meter readout on screen satisfies `check`; the deadline only stops a hung test. */
async function meterReads(page: Page, key: string, check: (db: number) => boolean, what: string): Promise<number> {
  let last = Number.NaN;
  for (let i = 0; i < 100; i++) {
    last = await meterPeakDb(page, key);
    if (check(last)) return last;
    await sleep(100);
  }
  assert.fail(`${what}: the ${key} meter stayed at ${last} dBFS`);
}

/** The selected tab panel's content. */
async function openScreen(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await page.getByRole('heading', { name, level: 2 }).waitFor();
}

test('operator joins a line from the UI: devices, connect, meters, latched talk heard at the other station, health', async () => {
  const a = pulse.devices('a');
  const b = pulse.devices('b');
  // B hosts the line and talks on it from the start, so A's screen has a remote level to show.
  const host = new StationProcess(['--name', 'B', '--host', '--port', '0', '--insecure', '--line', 'main', '--input', b.inputId, '--output', b.outputId, '--talk', 'main'], pulse.env);
  const station = new StationProcess(['--ui', '--ui-root', rendererDir], pulse.env, 'A');
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const injections: { stop: () => void }[] = [];
  try {
    const lineUrl = (await host.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const controlUrl = (await station.waitFor(/Control surface: (http:\/\/\S+)/))[1] as string;
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(controlUrl);
    await page.getByRole('status', { name: 'Station: Not connected' }).waitFor();

    // (1) Devices: the station's virtual mic and speaker, picked by their stable ids.
    await openScreen(page, 'Devices');
    const input = page.getByLabel('Input (microphone)');
    const output = page.getByLabel('Output (headphones / speakers)');
    await page.locator(`option[value="${a.inputId}"]`).first().waitFor({ state: 'attached' });
    await input.selectOption(a.inputId);
    await output.selectOption(a.outputId);
    await page.waitForFunction(
      ([inputId, outputId]) =>
        [...document.querySelectorAll('select')].map((select: { value: string }) => select.value).join(' ') === `${inputId} ${outputId}`,
      [a.inputId, a.outputId],
    );
    const selection = (await station.invoke('station.getState')) as { devices: Record<string, unknown> };
    const { inputId, outputId, inputState, outputState, inputOverruns, outputUnderruns } = selection.devices;
    assert.deepEqual({ inputId, outputId, inputState, outputState }, { inputId: a.inputId, outputId: a.outputId, inputState: 'ok', outputState: 'ok' });
    assert.deepEqual([typeof inputOverruns, typeof outputUnderruns], ['number', 'number'], 'the xrun counters of the open streams');
    assert.equal(await page.locator('.device-problem').count(), 0, 'no device problem is shown');

    // (3, first half) A tone into the virtual mic moves the input meter; silence leaves it at the floor.
    assert.ok((await meterPeakDb(page, 'input')) < -60, 'input meter is quiet before the tone');
    injections.push(pulse.inject(a.micSink, tone(440, 30, -12)));
    const inputPeak = await meterReads(page, 'input', (db) => db > -20, 'a -12 dBFS tone in the mic');
    assert.ok(Math.abs(inputPeak + 12) <= 3, `input meter shows ${inputPeak} dBFS for a -12 dBFS tone`);
    await screenshot(page, 'ui-e2e-devices');

    // (2) Connect: join B's line from the Connect screen.
    await openScreen(page, 'Connect');
    await page.getByLabel('Join a server').check();
    await page.getByLabel('Server URL').fill(lineUrl);
    await page.getByLabel('Join an unencrypted ws:// server (line secrets travel in clear)').check();
    await page.getByLabel('Station name').fill('A');
    await page.getByLabel('Line 1', { exact: true }).fill('main');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('status', { name: 'Station: On air' }).waitFor({ timeout: 15_000 });
    await station.waitFor(/\[peer B\] connected/);
    await host.waitFor(/\[peer A\] connected/);
    await screenshot(page, 'ui-e2e-connect');

    // (4) Latch talk with a tap: B's speaker plays A's 440 Hz tone at the level it went in.
    await openScreen(page, 'Keypanel');
    const talk = page.locator('[data-line="main"] .talk-key');
    let mark = host.lines.length;
    await talk.click();
    await page.locator('[data-line="main"] .talk-key[aria-pressed="true"]').waitFor();
    await logsAfter(host, mark, /\[state\] joined main\[TL A\]/);
    await sleep(1000); // first packets, playout target
    const heard = await recordFor(pulse, b.speakerMonitor, 2000);
    await screenshot(page, 'ui-e2e-keypanel-latched');
    const from = 2400;
    const f = dominantFrequency(heard, 100, 4000, from, heard.length);
    assert.ok(Math.abs(f - 440) <= 2, `B hears ${f} Hz`);
    const level = rmsDb(heard, from, heard.length);
    // -12 dBFS peak sine = -15.05 dBFS RMS; volume 1 end to end.
    assert.ok(Math.abs(level + 15.05) <= 3, `B hears A at ${level.toFixed(2)} dBFS`);

    // (5) Unlatch: B's speaker goes silent although the tone still plays into A's mic.
    mark = host.lines.length;
    await talk.click();
    await page.locator('[data-line="main"] .talk-key[aria-pressed="false"]').waitFor();
    await logsAfter(host, mark, /\[state\] joined main\[TL\]/);
    await sleep(500); // the playout buffer drains
    const after = await recordFor(pulse, b.speakerMonitor, 1500);
    const quiet = rmsDb(after, 0, after.length);
    assert.ok(quiet < -60, `B's speaker is silent after unlatching (${quiet.toFixed(1)} dBFS)`);

    // (6) The remote station's level and its health row.
    injections.push(pulse.inject(b.micSink, tone(1000, 20, -12)));
    await openScreen(page, 'Meters');
    await page.waitForFunction(() => document.querySelector('canvas.meter-canvas')?.getAttribute('data-channels') === 'input output B');
    const remotePeak = await meterReads(page, 'B', (db) => db > -20, "B's -12 dBFS tone");
    assert.ok(Math.abs(remotePeak + 12) <= 3, `B's meter shows ${remotePeak} dBFS`);
    assert.equal(await page.getByRole('meter', { name: 'B level' }).count(), 1, 'the remote meter is exposed to assistive technology');
    await screenshot(page, 'ui-e2e-meters');
    await openScreen(page, 'Health');
    const row = page.locator('tr[data-station="B"]');
    await row.waitFor();
    assert.equal(await row.locator('th').textContent(), 'B');
    assert.equal(await row.locator('.state-label').textContent(), 'connected');
    assert.match((await row.textContent()) ?? '', /\d+ ms \/ \d+ ms/, 'playout delay and target are shown');
    await screenshot(page, 'ui-e2e-health');

    // A headless station does not update itself, and its Updates screen says who does.
    await openScreen(page, 'Updates');
    await page.locator('.update-status[data-phase="unmanaged"]').waitFor();
    assert.match((await page.locator('.update-status').textContent()) ?? '', /Updates are managed by the desktop app/);
    assert.equal(await page.getByRole('button', { name: 'Check for updates' }).count(), 0, 'nothing to click that could not work');
    await screenshot(page, 'ui-e2e-updates');

    assert.deepEqual(errors, [], 'the page logged no errors');
  } catch (error) {
    for (const page of context.pages()) await screenshot(page, 'ui-e2e-failure').catch(() => undefined);
    throw error;
  } finally {
    for (const injection of injections) injection.stop();
    await context.close();
    const [stationExit, hostExit] = await Promise.all([station.stop(), host.stop()]);
    assert.equal(stationExit, '0', 'the UI station exits cleanly');
    assert.equal(hostExit, '0', 'the hosting station exits cleanly');
  }
});

/** Waits for a log line printed after the first `mark` lines (the station's talker list, as B sees it). */
async function logsAfter(process: StationProcess, mark: number, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (process.lines.slice(mark).some((line) => pattern.test(line))) return;
    await sleep(100);
  }
  assert.fail(`${process.label}: no line matching ${pattern} after line ${mark}:\n${process.lines.slice(mark).join('\n')}`);
}

async function recordFor(harness: PulseHarness, source: string, ms: number): Promise<Int16Array> {
  const recording = harness.record(source);
  await sleep(ms);
  return recording.stop();
}
