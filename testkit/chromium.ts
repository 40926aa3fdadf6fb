/**
 * Headless Chromium as a browser guest: its own process group, its own PulseAudio microphone and speaker, audio not
 * muted (Playwright's headless mode adds --mute-audio; we run --headless=new ourselves), and the guest page joined.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import { sleep, type PulseHarness } from './pulse';

// Browser globals for the page.evaluate callbacks: this project compiles without the DOM lib.
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  getElementById(id: string): { textContent: string | null } | null;
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
};
declare const window: { addEventListener(type: string, listener: () => void, options: { once: boolean }): void };
declare const performance: { now(): number };

/**
 * Holds the page's main thread for `ms` right after its next pointer press, as a page busy with a render or a call's
 * set-up would be: the listener is on the window, so it runs after the pressed element's own handlers.
 */
export async function holdNextPress(page: Page, ms: number): Promise<void> {
  await page.evaluate((holdMs) => {
    window.addEventListener(
      'pointerdown',
      () => {
        const until = performance.now() + holdMs;
        while (performance.now() < until);
      },
      { once: true },
    );
  }, ms);
}

interface MediaDevicesLike {
  getUserMedia(constraints?: { audio?: boolean | object; video?: boolean | object }): Promise<unknown>;
  enumerateDevices(): Promise<{ kind: string; label: string; deviceId: string }[]>;
}

/**
 * How every test and bench starts Debian's Chromium: headless but not muted (Playwright's headless mode adds
 * --mute-audio, so callers pass headless: false with --headless=new and ignoreDefaultArgs ['--mute-audio']), no
 * network of its own, media autoplay allowed. CHROMIUM_LOG=1 adds its audio logging.
 */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  ...(process.env.CHROMIUM_LOG ? ['--enable-logging=stderr', '--v=1', '--vmodule=*audio*=3,*pulse*=3'] : []),
];

export type ProcessingOption = 'echoCancellation' | 'noiseSuppression' | 'autoGainControl';

export interface GuestBrowserOptions {
  pulse: PulseHarness;
  /** A PulseHarness station name: the browser hears what is injected into its mic sink and plays to its speaker. */
  station: string;
  /** Overrides: the Pulse source the browser's microphone mirrors, and the sink it plays to. */
  source?: string;
  /** Take only this channel of a multichannel `source` (a remap of a remap never starts, so remap the master). */
  sourceChannel?: string;
  sink?: string;
  /**
   * The page's microphone is an oscillator at this frequency instead of a capture device, and the browser gets no
   * media permission at all. Only then does Chromium hide its host addresses behind mDNS names (`<uuid>.local`):
   * a granted microphone, or merely the --use-fake-ui-for-media-stream switch, lets it show its IPs.
   */
  syntheticMicrophoneHz?: number;
  /** More Chromium switches (e.g. --ignore-certificate-errors-spki-list to trust a station's certificate). */
  args?: string[];
  /** Run the browser in this network namespace: another machine on the LAN (see netns.ts). */
  netns?: string;
}

export class GuestBrowser {
  private constructor(
    private readonly server: BrowserServer,
    private readonly pulse: PulseHarness,
    private readonly sourceModule: string,
    readonly browser: Browser,
    readonly page: Page,
    readonly errors: string[],
  ) {}

  static async launch(options: GuestBrowserOptions): Promise<GuestBrowser> {
    const { pulse, station } = options;
    const devices = pulse.devices(station);
    // Chromium lists no monitor sources as microphones: remap the mic sink's monitor as a source of its own.
    const source = `${station}_voice`;
    const master = options.source ?? `${devices.micSink}.monitor`;
    const channel = options.sourceChannel ? ['channels=1', `master_channel_map=${options.sourceChannel}`, 'channel_map=mono', 'remix=no'] : [];
    const sink = options.sink ?? devices.speakerMonitor.replace(/\.monitor$/, '');
    const sourceModule = (
      await pulse.pactl('load-module', 'module-remap-source', `master=${master}`, `source_name=${source}`, `source_properties=device.description=${source}`, ...channel)
    ).trim();
    const wrapper = options.netns ? inNamespace(options.netns) : undefined;
    const server = await chromium.launchServer({
      executablePath: wrapper ?? '/usr/bin/chromium',
      headless: false,
      ignoreDefaultArgs: ['--mute-audio'],
      args: [
        ...CHROMIUM_ARGS,
        ...(options.syntheticMicrophoneHz === undefined ? ['--use-fake-ui-for-media-stream'] : []),
        ...(options.args ?? []),
      ],
      env: { ...pulse.env, PULSE_SOURCE: source, PULSE_SINK: sink },
    }).catch(async (e: unknown) => {
      await pulse.pactl('unload-module', sourceModule);
      throw e;
    }).finally(() => {
      // Started (or failed): the wrapper has done its job.
      if (wrapper) rmSync(wrapper, { force: true });
    });
    try {
      const browser = await chromium.connect(server.wsEndpoint());
      const context = await browser.newContext();
      if (options.syntheticMicrophoneHz === undefined) await context.grantPermissions(['microphone']);
      else await context.addInitScript(syntheticMicrophone, options.syntheticMicrophoneHz);
      // Chromium opens PulseAudio's default source whatever PULSE_SOURCE says, and every browser here shares one
      // daemon: pick this browser's microphone by its label, as a user would in the device chooser.
      if (options.syntheticMicrophoneHz === undefined) await context.addInitScript((label: string) => {
        const media = (globalThis as unknown as { navigator: { mediaDevices: MediaDevicesLike } }).navigator.mediaDevices;
        const open = media.getUserMedia.bind(media);
        media.getUserMedia = async (constraints) => {
          const device = (await media.enumerateDevices()).find((d) => d.kind === 'audioinput' && d.label === label);
          const audio = typeof constraints?.audio === 'object' ? constraints.audio : {};
          return open({ ...constraints, audio: { ...audio, ...(device ? { deviceId: { exact: device.deviceId } } : {}) } });
        };
      }, source);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
      });
      return new GuestBrowser(server, pulse, sourceModule, browser, page, errors);
    } catch (e) {
      await server.kill();
      await pulse.pactl('unload-module', sourceModule);
      throw e;
    }
  }

  /** Opens the guest page served at `httpUrl` and joins; resolves the guest's station id. */
  async join(httpUrl: string, who: { name: string; line: string; secret?: string; processing?: Partial<Record<ProcessingOption, boolean>> }): Promise<string> {
    const { page } = this;
    await page.goto(httpUrl);
    await page.fill('input[name=name]', who.name);
    await page.fill('input[name=line]', who.line);
    if (who.secret) await page.fill('input[name=secret]', who.secret);
    for (const [box, on] of Object.entries(who.processing ?? {})) await page.setChecked(`input[name=${box}]`, on);
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.body.dataset.state === 'joined' || document.body.dataset.state === 'error', undefined, { timeout: 10_000 });
    const state = await page.evaluate(() => ({ state: document.body.dataset.state, status: document.getElementById('status')?.textContent, id: document.body.dataset.stationId }));
    if (state.state !== 'joined' || !state.id) throw new Error(`guest did not join: ${state.status} ${this.errors.join(' | ')}`);
    return state.id;
  }

  /**
   * Taps a key button as a finger does: pressed and released 60 ms apart, by the input events' own time stamps. (A
   * click through Playwright sends the release only once the page has handled the press, so on a page busy setting up
   * its calls the two can lie further apart than the hold threshold, and the tap reads as a hold.) Resolves once the
   * key shows the state a tap gives it (`aria-pressed`), or fails saying which state it shows.
   */
  async tap(selector: string, expectPressed = true): Promise<void> {
    const { page } = this;
    const box = await page.locator(selector).boundingBox();
    if (!box) throw new Error(`tap: ${selector} is not on screen`);
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    const cdp = await page.context().newCDPSession(page);
    try {
      const at = Date.now() / 1000;
      const event = (type: 'mousePressed' | 'mouseReleased', timestamp: number) =>
        cdp.send('Input.dispatchMouseEvent', { type, x, y, button: 'left', buttons: type === 'mousePressed' ? 1 : 0, clickCount: 1, timestamp });
      await Promise.all([event('mousePressed', at), event('mouseReleased', at + 0.06)]);
    } finally {
      await cdp.detach().catch(() => undefined);
    }
    const want = String(expectPressed);
    try {
      await page.waitForFunction(([sel, w]) => document.querySelector(sel as string)?.getAttribute('aria-pressed') === w, [selector, want], { timeout: 5_000 });
    } catch {
      const shown = await page.evaluate((sel) => document.querySelector(sel)?.getAttribute('aria-pressed'), selector);
      throw new Error(`tap on ${selector}: the key shows aria-pressed=${shown}, a tap should leave it ${want}`);
    }
  }

  /** What the guest's open peer connections received as audio, by the browser's own count: for a failure's message. */
  async inboundAudio(): Promise<string> {
    return this.page.evaluate(async () => {
      type Stat = { type: string; kind?: string; packetsReceived?: number; concealedSamples?: number; totalSamplesReceived?: number; audioLevel?: number; jitterBufferDelay?: number; jitterBufferEmittedCount?: number };
      type Peer = { connectionState: string; getStats(): Promise<{ forEach(f: (s: Stat) => void): void }> };
      const peers = (globalThis as unknown as { partylinePeers?: () => Peer[] }).partylinePeers?.() ?? [];
      const lines: string[] = [];
      for (const pc of peers) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((s) => {
          if (s.type !== 'inbound-rtp' || s.kind !== 'audio') return;
          const delayMs = s.jitterBufferEmittedCount ? ((s.jitterBufferDelay ?? 0) / s.jitterBufferEmittedCount) * 1000 : NaN;
          lines.push(`${pc.connectionState}: ${s.packetsReceived} packets, ${s.concealedSamples}/${s.totalSamplesReceived} samples concealed, level ${s.audioLevel}, jitter buffer ${delayMs.toFixed(0)} ms`);
        });
      }
      return lines.join('; ') || 'no inbound audio';
    });
  }

  /** The browser's process group: a frozen browser keeps its sockets open but sends nothing, like a hung tab. */
  freeze(): void {
    const pid = this.server.process().pid;
    if (pid) process.kill(-pid, 'SIGSTOP');
  }

  async close(): Promise<void> {
    const pid = this.server.process().pid;
    if (pid) {
      try {
        process.kill(-pid, 'SIGCONT');
      } catch {
        /* already gone */
      }
    }
    await Promise.race([this.browser.close().catch(() => undefined), sleep(3000)]);
    await this.server.kill();
    await this.pulse.pactl('unload-module', this.sourceModule).catch(() => undefined);
  }
}

/** An executable that starts Debian's Chromium inside network namespace `ns` (`ip netns exec` execs, keeping the pid). */
function inNamespace(ns: string): string {
  const file = path.join(tmpdir(), `partyline-chromium-${ns}.sh`);
  writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${ns} /usr/bin/chromium "$@"\n`, { mode: 0o755 });
  return file;
}

/** Runs in the page: getUserMedia answers with a steady sine from Web Audio, asking no permission. */
function syntheticMicrophone(hz: number): void {
  interface AudioContextLike {
    createOscillator(): { frequency: { value: number }; connect(n: unknown): void; start(): void };
    createGain(): { gain: { value: number }; connect(n: unknown): void };
    createMediaStreamDestination(): { stream: unknown };
    resume(): Promise<void>;
  }
  const g = globalThis as unknown as { AudioContext: new () => AudioContextLike; navigator: { mediaDevices: MediaDevicesLike } };
  g.navigator.mediaDevices.getUserMedia = async () => {
    const audio = new g.AudioContext();
    const osc = audio.createOscillator();
    const level = audio.createGain();
    osc.frequency.value = hz;
    level.gain.value = 0.25;
    const out = audio.createMediaStreamDestination();
    osc.connect(level);
    level.connect(out);
    osc.start();
    await audio.resume();
    return out.stream;
  };
}

/** Builds the guest into dist/guest, where a hosting station serves it from. */
export async function buildGuest(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: path.join(__dirname, '..', 'guest', 'vite.config.ts'), logLevel: 'error', build: { sourcemap: false } });
}
