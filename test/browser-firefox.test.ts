// The browser guest in Firefox too (Debian's firefox-esr), driven by puppeteer-core over WebDriver BiDi, with
// Firefox's fake microphone (its prefs): Firefox's 1 kHz tone reaches the station, and the station's tone plays on the
// PulseAudio speaker Firefox was given. Firefox runs on another machine of the LAN (a network namespace joined by a
// veth pair), so its page, signalling and media cross a real link (testkit/firefox.ts says how it is driven there).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { buildGuest } from '../testkit/chromium';
import { FirefoxOnLan } from '../testkit/firefox';
import { createLan, type Lan } from '../testkit/lan-link';
import { dominantFrequency, tone, toneDb } from '../testkit/signal';
import { describePath, receiverSummary, selectedPaths } from '../testkit/guest-receiver';

declare const document: any;

/** What Firefox's fake microphone plays. */
const FAKE_MIC_HZ = 1000;

let pulse: PulseHarness;
let lan: Lan;
before(async () => {
  await buildGuest();
  pulse = await PulseHarness.start(['a', 'b']);
  lan = await createLan();
});
after(async () => {
  await pulse?.stop();
  await lan?.close();
});

/**
 * Firefox on the other machine. The page comes over plain http from the station's LAN address, which is no secure
 * context off loopback: that one host is declared trustworthy, so the page's microphone works.
 */
function launchFirefox(sink: string): Promise<FirefoxOnLan> {
  return FirefoxOnLan.launch({
    lan,
    env: { ...pulse.env, PULSE_SINK: sink },
    prefs: {
      // A fake microphone, granted without asking; the remote's voice may play without a click first.
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
      'dom.securecontext.allowlist': lan.hostAddress,
    },
  });
}

test('firefox-esr guest: tones both ways with a station', async (t) => {
  const a = new StationProcess(['--name', 'A', '--host', '--port', '0', '--insecure', '--line', 'main:s3cret', '--input', pulse.devices('a').inputId, '--output', pulse.devices('a').outputId, '--talk', 'main'], pulse.env);
  let firefox: FirefoxOnLan | undefined;
  const errors: string[] = [];
  try {
    const http = await a.hostedAt(lan.hostAddress);
    firefox = await launchFirefox(pulse.devices('b').speakerMonitor.replace(/\.monitor$/, ''));
    const page = await firefox.browser.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${String(e)}`));
    await page.goto(`http://${http}`);
    await page.type('input[name=name]', 'Fox');
    await page.$eval('input[name=line]', (el: any) => (el.value = 'main'));
    await page.type('input[name=secret]', 's3cret');
    for (const box of ['echoCancellation', 'noiseSuppression', 'autoGainControl']) await page.$eval(`input[name=${box}]`, (el: any) => (el.checked = false));
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.body.dataset.state === 'joined' || document.body.dataset.state === 'error', { timeout: 15_000 });
    const joined = await page.evaluate(() => ({ state: document.body.dataset.state, status: document.getElementById('status')?.textContent, id: document.body.dataset.stationId }));
    assert.equal(joined.state, 'joined', `the guest joined (${joined.status})`);
    await a.waitFor(new RegExp(`\\[peer ${joined.id}\\] connected`), 20_000);
    await page.click('#talk'); // a tap latches

    const toBrowser = pulse.inject(pulse.devices('a').micSink, tone(440, 8, -12));
    await sleep(2000);
    const atStation = pulse.record(pulse.devices('a').speakerMonitor);
    const atBrowser = pulse.record(pulse.devices('b').speakerMonitor);
    await sleep(3000);
    const [heardByStation, heardByBrowser] = await Promise.all([atStation.stop(), atBrowser.stop()]);
    toBrowser.stop();
    const received = await receiverSummary(page);
    const pairs = await selectedPaths(page);
    const paths = pairs.map(describePath);

    const fStation = dominantFrequency(heardByStation, 100, 4000);
    const fBrowser = dominantFrequency(heardByBrowser, 100, 4000);
    t.diagnostic(`station hears ${fStation} Hz at ${toneDb(heardByStation, FAKE_MIC_HZ).toFixed(1)} dB; Firefox plays ${fBrowser} Hz at ${toneDb(heardByBrowser, 440).toFixed(1)} dB; ICE ${paths.join('; ')}`);
    assert.ok(Math.abs(fStation - FAKE_MIC_HZ) <= 5, `the station hears Firefox's ${FAKE_MIC_HZ} Hz (${fStation} Hz)`);
    assert.ok(toneDb(heardByStation, FAKE_MIC_HZ) > -40, `loud enough (${toneDb(heardByStation, FAKE_MIC_HZ).toFixed(1)} dB)`);
    // What Firefox's receiver did and what the station said of its own microphone: which end made a tone quiet.
    const why = `${received}; ${a.audioTrouble()}`;
    assert.ok(Math.abs(fBrowser - 440) <= 3, `Firefox plays the station's 440 Hz (${fBrowser} Hz; ${why})`);
    assert.ok(toneDb(heardByBrowser, 440) > -30, `loud (${toneDb(heardByBrowser, 440).toFixed(1)} dB; ${why})`);
    // The call's media went straight from the browser's machine to the station's address on the link, the only way
    // out of the browser's namespace.
    assert.ok(
      pairs.some((p) => p.local.type === 'host' && p.remote.address === lan.hostAddress),
      `Firefox's selected ICE pair runs from its host candidate to ${lan.hostAddress} (${paths.join('; ')})`,
    );
    assert.deepEqual(errors, []);
  } finally {
    await firefox?.close();
    assert.equal(await a.stop(), '0', `A exits cleanly (${a.tail()})`);
  }
});
