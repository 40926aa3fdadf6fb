// The operating screen (Keypanel) in real Chromium against the real WebSocket bridge and a scripted station: every
// line's keys, meter, talkers, roster and call light, and the master section, at a desktop size and as a 420 px side
// panel, each element visible, inside the window, not clipped and not overlapping its neighbours.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ControlBridgeServer } from '../electron/control/ws-bridge';
import { ScriptedStation } from './contract-station.fixture';
import { buildRenderer, collectPageErrors, launchChromium, screenshot } from './ui-harness.fixture';

declare const document: any;
declare const window: any;

let rendererDir: string;
let scratch: string;
let browser: Browser;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'partyline-ui-operate-'));
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

const LINES = ['Program', 'Stage', 'Production'];

async function openOnAir(width: number): Promise<{ station: ScriptedStation; page: Page }> {
  const station = new ScriptedStation();
  const bridge = new ControlBridgeServer({ control: station, staticRoot: rendererDir });
  const { url } = await bridge.start();
  await station.invoke('station.connect', {
    server: { kind: 'remote', url: 'ws://127.0.0.1:9000/', insecure: true },
    stationId: 'foh',
    name: 'FOH',
    lines: LINES.map((line) => ({ line })),
    iceServers: [],
  });
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  cleanups.push(async () => {
    await context.close();
    await bridge.close();
    assert.deepEqual(errors, [], 'the page logged no errors');
  });
  await page.goto(url);
  await page.getByRole('tab', { name: 'Keypanel' }).click();
  await page.getByRole('heading', { name: 'Keypanel', level: 2 }).waitFor();
  return { station, page };
}

/** A busy show: talkers, a roster with a browser guest, an incoming call, levels on every line. */
function busyShow(station: ScriptedStation): void {
  const members = [
    { stationId: 'stage-left', name: 'Stage Left', kind: 'station' as const },
    { stationId: 'director', name: 'Director (browser)', kind: 'browser' as const },
    { stationId: 'lx', name: 'Lighting desk', kind: 'station' as const },
  ];
  station.state = {
    ...station.state,
    lines: station.state.lines.map((line) => ({
      ...line,
      members,
      talkers: line.line === 'Program' ? [{ stationId: 'stage-left', name: 'Stage Left' }, { stationId: 'director', name: 'Director (browser)' }] : [],
    })),
  };
  station.emit('state', station.state);
  station.incomingCall('Stage', { stationId: 'stage-left', name: 'Stage Left' }, true);
  station.incomingDirect({ stationId: 'director', name: 'Director (browser)' }, true);
}

function emitLevels(station: ScriptedStation, t: number): void {
  const quiet = { peakDb: -120, rmsDb: -120 };
  station.emit('meters', {
    t,
    input: { peakDb: -14, rmsDb: -20 },
    output: { peakDb: -9, rmsDb: -15 },
    peers: {},
    lines: { Program: { peakDb: -9.5, rmsDb: -15 }, Stage: quiet, Production: { peakDb: -30, rmsDb: -36 } },
  });
}

interface Box {
  name: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
  clipped: boolean;
}

/** Each element's box and whether its content is cut off (wider or taller than its box). */
async function boxes(page: Page, scope: string, selectors: string[]): Promise<Box[]> {
  return page.evaluate(
    ([scopeSelector, list]: [string, string[]]) => {
      const root = document.querySelector(scopeSelector);
      return list.map((selector: string) => {
        const element = root?.querySelector(selector);
        if (!element) return { name: selector, left: 0, top: 0, right: 0, bottom: 0, clipped: true };
        const rect = element.getBoundingClientRect();
        const clipped = element.scrollWidth > element.clientWidth + 1 || element.scrollHeight > element.clientHeight + 1;
        return { name: selector, left: rect.left, top: rect.top + window.scrollY, right: rect.right, bottom: rect.bottom + window.scrollY, clipped };
      });
    },
    [scope, selectors] as [string, string[]],
  );
}

function assertLaidOut(found: Box[], width: number, where: string): void {
  for (const box of found) {
    assert.ok(box.right - box.left > 0 && box.bottom - box.top > 0, `${where} ${box.name} is visible at ${width}px`);
    assert.ok(box.left >= 0 && box.right <= width, `${where} ${box.name} lies inside the ${width}px window (${box.left}..${box.right})`);
    assert.equal(box.clipped, false, `${where} ${box.name} is not clipped at ${width}px`);
  }
  for (let i = 0; i < found.length; i++) {
    for (let j = i + 1; j < found.length; j++) {
      const [a, b] = [found[i] as Box, found[j] as Box];
      const overlap = a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
      assert.ok(!overlap, `${where} ${a.name} and ${b.name} overlap at ${width}px`);
    }
  }
}

const STRIP_PARTS = ['.line-name', '.call-light', '.leave-key', '.activity', 'canvas.meter-canvas', '.talk-key', '.listen-key', '.call-key', '.volume', '.roster'];
const MASTER_PARTS = ['h3', '.direct-incoming', 'canvas.meter-canvas', '.mic-mute', '.all-talk-off', '.reply-key', '.volume'];

for (const width of [1280, 420]) {
  test(`operating screen at ${width}x800: every line's keys, meter, talkers, roster and call light and the master section, readable and not overlapping`, async () => {
    const { station, page } = await openOnAir(width);
    busyShow(station);
    for (let t = 0; t < 10; t++) emitLevels(station, t);
    await page.locator('[data-line="Stage"] .call-light.lit').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-line="Program"] [role="meter"]')?.getAttribute('data-peak-db') === '-9.5');

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at ${width}px`);
    for (const line of LINES) assertLaidOut(await boxes(page, `[data-line="${line}"]`, STRIP_PARTS), width, line);
    assertLaidOut(await boxes(page, '.master', MASTER_PARTS), width, 'master');
    // The master section and the strips sit side by side on a desktop and stack in a side panel, never on each other.
    assertLaidOut(await boxes(page, '.operate', ['.master', '.strips']), width, 'screen');
    const [master, strips] = await boxes(page, '.operate', ['.master', '.strips']);
    if (width === 1280) assert.ok((master as Box).right <= (strips as Box).left, 'side by side at 1280px');
    else assert.ok((master as Box).bottom <= (strips as Box).top, 'stacked at 420px');

    // What the operator reads, per line.
    assert.equal(await page.locator('[data-line="Program"] .talkers').textContent(), 'Stage Left, Director (browser)');
    assert.equal(await page.locator('[data-line="Stage"] .call-text').textContent(), 'Call from Stage Left');
    assert.equal(await page.locator('[data-line="Stage"] .call-key').textContent(), 'Answer');
    assert.equal(await page.getByRole('status', { name: 'Private talk to you' }).textContent(), 'Director (browser) talking to you');
    assert.equal(await page.locator('.reply-key').textContent(), 'Reply to Director (browser)');
    assert.deepEqual(await page.locator('[data-line="Program"] .roster li').evaluateAll((items: any[]) => items.map((li) => `${li.dataset.kind}:${li.querySelector('.member-name').textContent}`)), [
      'station:Stage Left',
      'browser:Director (browser)',
      'station:Lighting desk',
    ]);
    assert.equal(await page.getByRole('meter', { name: 'Mic level' }).getAttribute('data-peak-db'), '-14.0');
    assert.equal(await page.locator('[data-line="Production"] [role="meter"]').getAttribute('data-peak-db'), '-30.0');
    assert.equal(await page.locator('[data-line="Stage"] [role="meter"]').getAttribute('data-peak-db'), '-120.0', 'a quiet line reads silence');
    await screenshot(page, `ui-operate-${width}`);
  });
}

test('operating screen: call and answer, mic mute, master volume and all talk off go to the station', async () => {
  const { station, page } = await openOnAir(1280);
  busyShow(station);
  const calls = (name: string) => station.calls.filter((call) => call.name === name).map((call) => call.input);

  // Answer the incoming call on Stage: the light goes out.
  await page.locator('[data-line="Stage"] .call-key', { hasText: 'Answer' }).click();
  await page.locator('[data-line="Stage"] .call-light:not(.lit)').waitFor();
  assert.deepEqual(calls('line.answerCall'), [{ line: 'Stage' }]);
  assert.equal(await page.locator('[data-line="Stage"] .call-text').textContent(), 'No call');

  // Call on Production: the own call shows as going out, and can be cancelled.
  await page.locator('[data-line="Production"] .call-key').click();
  await page.locator('[data-line="Production"] .call-light.outgoing').waitFor();
  assert.equal(await page.locator('[data-line="Production"] .call-text').textContent(), 'Calling…');
  assert.deepEqual(calls('line.call'), [{ line: 'Production' }]);
  await page.locator('[data-line="Production"] .call-key', { hasText: 'Cancel call' }).click();
  await page.locator('[data-line="Production"] .call-key', { hasText: /^Call$/ }).waitFor();

  // Private talk: a tap on a roster entry latches talk to that station alone; the reply key answers the last caller.
  await page.getByRole('button', { name: 'Talk to Lighting desk alone' }).first().click();
  await page.locator('[data-station="lx"] .direct-key[aria-pressed="true"]').first().waitFor();
  assert.equal(await page.locator('[data-station="lx"] .direct-key[aria-pressed="true"]').count(), 3, 'lit in every roster that lists it');
  assert.deepEqual(calls('talk.direct'), [{ stationId: 'lx', on: true }]);
  await page.locator('.reply-key').click();
  await page.locator('.reply-key[aria-pressed="true"]').waitFor();
  assert.deepEqual(calls('talk.reply'), [{ on: true }]);
  assert.deepEqual(station.state.direct?.talkingTo.map((t) => t.stationId), ['lx', 'director']);
  await page.getByRole('button', { name: 'All talk off' }).click();
  await page.locator('.reply-key[aria-pressed="false"]').waitFor();
  assert.equal(await page.locator('.direct-key[aria-pressed="true"]').count(), 0, 'all talk off ends private talk too');

  // Mic mute is a toggle that says so.
  await page.getByRole('button', { name: 'Mic mute' }).click();
  await page.locator('.mic-mute[aria-pressed="true"]', { hasText: 'Mic muted' }).waitFor();
  assert.equal(station.state.master?.micMuted, true);
  await page.getByRole('button', { name: 'Mic muted' }).click();
  await page.locator('.mic-mute[aria-pressed="false"]').waitFor();

  // Master volume from the keyboard.
  await page.getByLabel('Master volume').focus();
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => document.querySelector('.master output')?.textContent === '99%');
  assert.equal(station.state.master?.volume, 0.99);

  // All talk off: enabled only while some talk key is on.
  assert.equal(await page.getByRole('button', { name: 'All talk off' }).isDisabled(), true);
  await page.locator('[data-line="Program"] .talk-key').click();
  await page.locator('[data-line="Stage"] .talk-key').click();
  await page.locator('[data-line="Stage"] .talk-key[aria-pressed="true"]').waitFor();
  await page.getByRole('button', { name: 'All talk off' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.talk-key[aria-pressed="true"]').length === 0);
  assert.deepEqual(station.state.lines.map((line) => line.talk), [false, false, false]);
  assert.equal(calls('talk.allOff').length, 2);
});

test('operating screen: joining and leaving a line on air go to the station as station.setLines; a refused name is shown at the field and sends nothing', async () => {
  const { station, page } = await openOnAir(1280);
  const setLines = () => station.calls.filter((call) => call.name === 'station.setLines').map((call) => call.input);
  const strips = () => page.locator('.strips > li').evaluateAll((items: any[]) => items.map((li) => li.dataset.line));
  const join = page.getByRole('form', { name: 'Join a line' });

  // A name the contract refuses: its error, naming the field, at the name field; nothing sent, nothing changed.
  await join.getByLabel('Line', { exact: true }).fill('-Comms');
  await join.getByRole('button', { name: 'Join' }).click();
  const problem = join.getByRole('alert');
  await problem.waitFor();
  assert.match((await problem.textContent()) ?? '', /^station\.setLines: lines\.3\.line: line name: /);
  assert.equal(await join.getByLabel('Line', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.deepEqual(setLines(), [], 'a refused name sends nothing');
  assert.deepEqual(await strips(), LINES);
  // A line already held: said so, and nothing sent.
  await join.getByLabel('Line', { exact: true }).fill('Stage');
  await join.getByRole('button', { name: 'Join' }).click();
  await join.getByRole('alert').filter({ hasText: 'already on Stage' }).waitFor();
  assert.deepEqual(setLines(), []);

  // Join: the lines held by name (the station keeps their secrets) and the new one with the secret typed.
  await join.getByLabel('Line', { exact: true }).fill('Comms');
  await join.getByLabel('Secret (if it has one)').fill('comms-secret');
  await join.getByRole('button', { name: 'Join' }).click();
  await page.locator('[data-line="Comms"]').waitFor();
  assert.deepEqual(setLines(), [{ lines: [{ line: 'Program' }, { line: 'Stage' }, { line: 'Production' }, { line: 'Comms', secret: 'comms-secret' }] }]);
  assert.equal(await join.getByRole('alert').count(), 0, 'the refusal is cleared');
  assert.equal(await join.getByLabel('Line', { exact: true }).inputValue(), '');
  assert.equal(await join.getByLabel('Secret (if it has one)').inputValue(), '');
  assert.equal(station.state.connection, 'joined', 'still on air');

  // Leave: every other line, by name; the strip goes and the rest stay on air.
  await page.getByRole('button', { name: 'Leave Stage' }).click();
  await page.locator('[data-line="Stage"]').waitFor({ state: 'detached' });
  assert.deepEqual(setLines().at(-1), { lines: [{ line: 'Program' }, { line: 'Production' }, { line: 'Comms' }] });
  assert.deepEqual(await strips(), ['Program', 'Production', 'Comms']);
  assert.deepEqual(
    station.calls.filter((call) => call.name === 'station.connect' || call.name === 'station.disconnect').map((call) => call.name),
    ['station.connect'],
    'no disconnect, no reconnect',
  );

  // The last line cannot be left from the keypanel: a station on air is on at least one line.
  await page.getByRole('button', { name: 'Leave Production' }).click();
  await page.getByRole('button', { name: 'Leave Comms' }).click();
  await page.locator('[data-line="Comms"]').waitFor({ state: 'detached' });
  assert.deepEqual(setLines().at(-1), { lines: [{ line: 'Program' }] });
  assert.equal(await page.getByRole('button', { name: 'Leave Program' }).isDisabled(), true);
});
