import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { naudiodonBindingPath, portAudioBindingPath } from './binding';
import type { DeviceEnumeration } from './devices';
import { BridgeError } from './errors';

/**
 * A long-lived child process that enumerates the sound devices on request, one JSON line per scan.
 *
 * Long-lived because starting a process costs the whole station: fork() copies this process's page tables under its
 * memory-map lock, so every thread that touches memory meanwhile (the media thread, the sound server's client
 * threads) stops for as long as the copy takes, measured at 20 to 40 ms here. A process per listing turned a control
 * flood into a hole at the speaker; now the fork happens once, before any device opens (`startDeviceScanner`).
 */

/** How long an enumeration stands on Linux while nothing it depends on has changed: a safety net, not the rule. */
export const ENUMERATION_MAX_AGE_MS = 60_000;

// Plain JavaScript: it must run under Electron's own Node (ELECTRON_RUN_AS_NODE) with no loader in front. Each line
// on stdin asks for a scan. naudiodon initializes and terminates PortAudio around each call, so an enumeration sees
// the devices as they are then; it costs the sound server a connection per ALSA device that the pulse plugin serves.
// On Linux it therefore stands while what it depends on is unchanged (the cards present, ALSA's configuration), and
// the scanner enumerates once as it starts: a listing flood, or a panel that polls, costs one connection per listing
// (the sound server's own devices, always asked afresh) instead of a dozen.
const SCANNER_SCRIPT = `
const fs = require('node:fs');
const path = require('node:path');
const home = require('node:os').homedir();
const b = require(process.argv[1]);
let p;
try { p = require(process.argv[2]); } catch {}
const maxAgeMs = Number(process.argv[3]);
const watched = [
  ...(process.env.ALSA_CONFIG_PATH ? process.env.ALSA_CONFIG_PATH.split(':') : ['/usr/share/alsa/alsa.conf']),
  '/etc/asound.conf',
  path.join(home, '.asoundrc'),
  path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), 'alsa', 'asoundrc'),
  '/etc/alsa/conf.d',
  '/usr/share/alsa/alsa.conf.d',
  '/dev/snd',
];
function alsaState() {
  const parts = watched.map((f) => {
    try {
      const s = fs.statSync(f);
      return f + ':' + s.size + ':' + s.mtimeMs;
    } catch {
      return f + ':-';
    }
  });
  try { parts.push(fs.readdirSync('/dev/snd').sort().join(',')); } catch {}
  try { parts.push(fs.readFileSync('/proc/asound/cards', 'utf8')); } catch {}
  return parts.join('\\n');
}
let last;
let enumerations = 0;
function enumerate() {
  const state = process.platform === 'linux' ? alsaState() : undefined;
  const now = Date.now();
  if (!last || state === undefined || state !== last.state || now - last.at > maxAgeMs) {
    last = { state, at: now, devices: b.getDevices(), hostApis: b.getHostAPIs(), enumeration: ++enumerations };
  }
  return { devices: last.devices, hostApis: last.hostApis, enumeration: last.enumeration };
}
try { enumerate(); } catch {}
require('node:readline').createInterface({ input: process.stdin }).on('line', () => {
  let found = enumerate();
  try {
    if (p && p.listPulse) found.soundServer = { sources: p.listPulse(true), sinks: p.listPulse(false) };
  } catch (e) {
    // No server at all leaves its devices out; one that does not answer is a failed scan, not a shorter list.
    if (/within \\d+ s/.test(e.message)) found = { error: e.message };
  }
  process.stdout.write(JSON.stringify(found) + '\\n');
});
`;

interface Pending {
  resolve: (found: DeviceEnumeration) => void;
  reject: (e: BridgeError) => void;
}

export class DeviceScanner {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending: Pending[] = [];
  private out = '';
  private err = '';

  /** Starts the process now if it is not running, so that the fork happens before any device opens. */
  start(): void {
    if (this.child) return;
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    // The parent's NODE_OPTIONS (an --inspect port, a loader) are for the parent; the scanner is plain JavaScript.
    delete env.NODE_OPTIONS;
    const child = spawn(
      process.execPath,
      ['-e', SCANNER_SCRIPT, naudiodonBindingPath(), portAudioBindingPath(), String(ENUMERATION_MAX_AGE_MS)],
      {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      },
    );
    this.child = child;
    this.out = '';
    this.err = '';
    child.stdout.on('data', (d: Buffer) => this.take(d));
    // ALSA talks on stderr about every PCM it cannot open; the tail is what explains a failure.
    child.stderr.on('data', (d: Buffer) => (this.err = (this.err + d.toString()).slice(-2000)));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => this.gone(child, `cannot start ${process.execPath}: ${e.message}`));
    child.on('close', (code, signal) => {
      const tail = this.err.trim().split('\n').slice(-3).join(' | ');
      this.gone(child, `the scanning process exited with ${signal ?? code}${tail ? `: ${tail}` : ''}`);
    });
    // The scanner must not keep the station's event loop alive; a scan in flight keeps it by its deadline timer.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
  }

  /** One enumeration, or a BridgeError 'scan-failed'; past `deadlineMs` the process is killed (a wedged sound server). */
  scan(deadlineMs: number): Promise<DeviceEnumeration> {
    try {
      this.start();
    } catch (e) {
      return Promise.reject(scanFailed(`cannot start the scanning process: ${(e as Error).message}`));
    }
    const child = this.child as ChildProcessWithoutNullStreams;
    return new Promise<DeviceEnumeration>((resolve, reject) => {
      const deadline = setTimeout(() => {
        child.kill('SIGKILL');
        this.gone(child, `no answer within ${deadlineMs} ms (is the sound server hung?)`);
      }, deadlineMs);
      this.pending.push({
        resolve: (found) => {
          clearTimeout(deadline);
          resolve(found);
        },
        reject: (e) => {
          clearTimeout(deadline);
          reject(e);
        },
      });
      child.stdin.write('scan\n');
    });
  }

  private take(d: Buffer): void {
    this.out += d.toString();
    for (let nl = this.out.indexOf('\n'); nl >= 0; nl = this.out.indexOf('\n')) {
      const line = this.out.slice(0, nl);
      this.out = this.out.slice(nl + 1);
      const waiting = this.pending.shift();
      if (!waiting) continue;
      let answer: DeviceEnumeration | { error: string };
      try {
        answer = JSON.parse(line) as DeviceEnumeration | { error: string };
      } catch (e) {
        waiting.reject(scanFailed(`unreadable answer (${(e as Error).message})`));
        continue;
      }
      if ('error' in answer) waiting.reject(scanFailed(answer.error));
      else waiting.resolve(answer);
    }
  }

  private gone(child: ChildProcessWithoutNullStreams, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    for (const waiting of this.pending.splice(0)) waiting.reject(scanFailed(why));
  }
}

function scanFailed(why: string): BridgeError {
  return new BridgeError('scan-failed', `device scan failed: ${why}`);
}
