// A browser guest on another machine of the LAN (Chromium in a network namespace) opens the hosting station's page
// over HTTPS, trusting the station's self-signed certificate through --ignore-certificate-errors-spki-list as the
// README tells a crew to: the page is a secure context, so its microphone works, and a tone goes both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { GuestBrowser, buildGuest, CHROMIUM_ARGS } from '../testkit/chromium';
import { createLan, type Lan } from '../testkit/lan-link';
import { dominantFrequency, rmsDb, tone, toneDb } from '../testkit/signal';

let pulse: PulseHarness;
let lan: Lan;
const scratch = mkdtempSync(path.join(tmpdir(), 'partyline-browser-tls-'));
before(async () => {
  await buildGuest();
  pulse = await PulseHarness.start(['a', 'b']);
  lan = await createLan();
});
after(async () => {
  await pulse?.stop();
  await lan?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a Chromium guest on another machine trusts the station by its key, joins over https, and talks and listens', async () => {
  const d = pulse.devices('a');
  const a = new StationProcess(['--name', 'A', '--host', '--port', '0', '--line', 'main:s3cret', '--input', d.inputId, '--output', d.outputId, '--talk', 'main', '--data-dir', scratch, '--meters-every', '0'], pulse.env);
  let g: GuestBrowser | undefined;
  try {
    const spki = (await a.waitFor(/--ignore-certificate-errors-spki-list=(\S+)/))[1] as string;
    const joinAt = (await a.waitFor(/others join at (.*)$/))[1]?.split(' ') ?? [];
    const wss = joinAt.find((u) => u.includes(`//${lan.hostAddress}:`));
    assert.ok(wss, `a URL on the LAN address among ${joinAt.join(' ')}`);
    const page = wss.replace(/^wss:/, 'https:');

    // Without the station's key the browser refuses the page: the trust comes from the switch, nothing else.
    const untrusting = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const tab = await untrusting.newPage();
      await assert.rejects(tab.goto(page.replace(lan.hostAddress, '127.0.0.1')), /ERR_CERT/);
    } finally {
      await untrusting.close();
    }

    g = await GuestBrowser.launch({ pulse, station: 'b', netns: lan.ns, args: [`--ignore-certificate-errors-spki-list=${spki}`] });
    const id = await g.join(page, {
      name: 'Guest B',
      line: 'main',
      secret: 's3cret',
      processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    assert.equal(await g.page.evaluate(() => (globalThis as unknown as { isSecureContext: boolean }).isSecureContext), true);
    await a.waitFor(new RegExp(`\\[peer ${escape(id)}\\] connected`));
    await g.tap('#talk');
    const toStation = pulse.inject(pulse.devices('b').micSink, tone(440, 7, -12));
    const toBrowser = pulse.inject(pulse.devices('a').micSink, tone(1000, 7, -12));
    await sleep(2000);
    const atStation = pulse.record(pulse.devices('a').speakerMonitor);
    const atBrowser = pulse.record(pulse.devices('b').speakerMonitor);
    await sleep(3500);
    const [heardByStation, heardByBrowser] = await Promise.all([atStation.stop(), atBrowser.stop()]);
    toStation.stop();
    toBrowser.stop();
    assert.ok(heardByStation.length > 48000 * 3 && heardByBrowser.length > 48000 * 3, 'both recordings ran');
    const fStation = dominantFrequency(heardByStation, 100, 4000);
    const fBrowser = dominantFrequency(heardByBrowser, 100, 4000);
    assert.ok(Math.abs(fStation - 440) <= 3, `the station hears ${fStation} Hz from the browser's microphone`);
    assert.ok(Math.abs(fBrowser - 1000) <= 3, `the browser hears ${fBrowser} Hz from the station`);
    assert.ok(toneDb(heardByStation, 440) > -35, `the browser's tone at the station: ${toneDb(heardByStation, 440).toFixed(1)} dBFS`);
    const inBrowser = toneDb(heardByBrowser, 1000);
    // A quiet tone is either a part of the window or a weak stream: the level per half second and what the browser received say which.
    const why = inBrowser > -35 ? '' : `; per 0.5 s ${levelsPerHalfSecond(heardByBrowser)}; the browser received: ${await g.inboundAudio()}`;
    assert.ok(inBrowser > -35, `the station's tone in the browser: ${inBrowser.toFixed(1)} dBFS${why}`);
  } finally {
    await g?.close();
    assert.equal(await a.stop(), '0');
  }
});

function levelsPerHalfSecond(x: Int16Array): string {
  const block = 24000;
  const out: string[] = [];
  for (let s = 0; s + block <= x.length; s += block) out.push(rmsDb(x, s, s + block).toFixed(0));
  return out.join(' ');
}
