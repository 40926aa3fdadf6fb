/**
 * Debian's Firefox ESR on another machine of the LAN (a network namespace), driven by puppeteer-core over WebDriver
 * BiDi. Firefox has no pipe transport and its BiDi server listens only on its own loopback, which the host cannot
 * reach: a small TCP forwarder in the namespace carries the BiDi websocket from the namespace's LAN address to it.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import type { Lan } from './lan-link';
import { sleep } from './pulse';

const FIREFOX = '/usr/bin/firefox-esr';

type Pref = boolean | number | string;

/**
 * What puppeteer's own launch writes into a profile that a headless test run depends on: one content process (its
 * input dispatch needs it), and no first-run page, update check or telemetry upload opening connections of its own.
 */
const BASE_PREFS: Record<string, Pref> = {
  'fission.webContentIsolationStrategy': 0,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'app.update.disabledForTesting': true,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'dom.max_script_run_time': 0,
  'hangmonitor.timeout': 0,
};

/** Listens on the namespace's LAN address and pipes each connection to Firefox's BiDi port on the namespace's loopback. */
const FORWARDER = `
const net = require('node:net');
const [port, host] = process.argv.slice(1);
net
  .createServer((c) => {
    const u = net.connect(Number(port), '127.0.0.1');
    c.pipe(u).pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.on('close', () => u.destroy());
    u.on('close', () => c.destroy());
  })
  .listen(Number(port), host, () => console.log('forwarding'));
`;

// A browser a failed test left running must not outlive the test file's process (its namespace would live on too).
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) signalGroup(child, 'SIGKILL');
});

export interface FirefoxOnLanOptions {
  lan: Lan;
  /** The browser's environment (PulseAudio's, and PULSE_SINK for its speaker). */
  env: NodeJS.ProcessEnv;
  /** Prefs for its profile's user.js, over the base ones. */
  prefs: Record<string, Pref>;
}

export class FirefoxOnLan {
  private constructor(
    readonly browser: Browser,
    private readonly firefox: ChildProcess,
    private readonly forwarder: ChildProcess,
    private readonly profile: string,
  ) {}

  static async launch({ lan, env, prefs }: FirefoxOnLanOptions): Promise<FirefoxOnLan> {
    const profile = mkdtempSync(path.join(tmpdir(), 'partyline-firefox-'));
    const all = { ...BASE_PREFS, ...prefs };
    writeFileSync(
      path.join(profile, 'user.js'),
      Object.entries(all)
        .map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`)
        .join(''),
    );
    // Firefox's output up to its listening line: for the message if it never gets there.
    const output: string[] = [];
    let firefox: ChildProcess | undefined;
    let forwarder: ChildProcess | undefined;
    try {
      // Its own process group (`ip netns exec` execs in place), so that closing takes its content processes too.
      firefox = lan.spawn(
        FIREFOX,
        ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0', 'about:blank'],
        { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      running.add(firefox);
      const port = await lineFrom(firefox, output, /WebDriver BiDi listening on ws:\/\/127\.0\.0\.1:(\d+)/, 30_000);
      forwarder = lan.spawn(process.execPath, ['-e', FORWARDER, port, lan.peerAddress], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      running.add(forwarder);
      await lineFrom(forwarder, [], /^forwarding$/, 10_000);
      // Firefox's HTTP server answers 400 to a Host it does not know as its own: the request names the loopback
      // address the forwarder delivers it to.
      const browser = await puppeteer.connect({
        browserWSEndpoint: `ws://${lan.peerAddress}:${port}/session`,
        protocol: 'webDriverBiDi',
        wsOptions: { headers: { Host: `127.0.0.1:${port}` } },
      });
      return new FirefoxOnLan(browser, firefox, forwarder, profile);
    } catch (e) {
      await stop(forwarder);
      await stop(firefox);
      rmSync(profile, { recursive: true, force: true });
      throw e;
    }
  }

  async close(): Promise<void> {
    await Promise.race([this.browser.close().catch(() => undefined), sleep(5000)]);
    await stop(this.firefox);
    await stop(this.forwarder);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/** Resolves the first capture of `pattern` in the child's stdout or stderr; fails if it exits or is silent too long. */
function lineFrom(child: ChildProcess, output: string[], pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${output.slice(-10).join(' | ')}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        output.push(line);
        const m = pattern.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] ?? m[0]);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${signal ?? code}) before ${pattern}: ${output.slice(-10).join(' | ')}`));
    });
  });
}

/** Ends a child's whole process group: asked first, then killed, stragglers included. */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child) return;
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  signalGroup(child, 'SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  // Whatever of the group is left (a content process that outlived its parent, or all of it).
  signalGroup(child, 'SIGKILL');
  await exited;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}
