import { spawn } from 'node:child_process';
import { naudiodonBindingPath, portAudioBindingPath } from './binding';
import { deviceTable, findDevice, resolveDevice, type DeviceEnumeration, type DeviceTable, type Direction } from './devices';
import { BridgeError } from './errors';
import { abandonedStreamCount } from './watchdog';

/**
 * PortAudio enumerates devices only when it initializes, and our streams keep it initialized (Pa_Initialize counts
 * references): while any stream is open, this process's device table is the one from when the first stream opened,
 * blind to a headset plugged in since. Only a PortAudio of its own sees the devices as they are now, so the scan
 * runs in a short-lived child process, which also keeps ALSA's ~70 ms probe of every PCM off the event loop that
 * feeds the speaker.
 */

/** A listing asked for within this long of the last scan's start is answered from that scan (a UI polls; a flood of requests spawns one process). */
export const SCAN_REUSE_MS = 1000;
/** A scan normally takes 100-200 ms including the process start; past this something hangs (a wedged sound server). */
export const SCAN_DEADLINE_MS = 5000;

// Plain JavaScript: it must run under Electron's own Node (ELECTRON_RUN_AS_NODE) with no loader in front.
// The sound server's own devices come from our binding (libpulse, when there is one), and are left out if it fails.
const SCAN_SCRIPT = `
const b = require(process.argv[1]);
const found = { devices: b.getDevices(), hostApis: b.getHostAPIs() };
try {
  const p = require(process.argv[2]);
  if (p.listPulse) found.soundServer = { sources: p.listPulse(true), sinks: p.listPulse(false) };
} catch {}
process.stdout.write(JSON.stringify(found));
`;

interface Scan {
  startedAt: number;
  settled: boolean;
  table: Promise<DeviceTable>;
}

let latest: Scan | undefined;

/**
 * The devices present now, from a PortAudio in a child process. Its indices mean nothing here: it says which ids
 * exist, never how to open them. At most one scan runs at a time; callers within `maxAgeMs` of the latest scan's
 * start share it. A failed scan is a BridgeError 'scan-failed' and is not reused.
 */
export async function scanDevices(maxAgeMs = SCAN_REUSE_MS): Promise<DeviceTable> {
  const askedAt = performance.now();
  for (;;) {
    const current = latest;
    if (current && askedAt - current.startedAt <= maxAgeMs) return current.table;
    if (current && !current.settled) {
      // Too old for this caller, but still running: one child at a time, then the next scan.
      await current.table.catch(() => undefined);
      continue;
    }
    const scan: Scan = { startedAt: performance.now(), settled: false, table: runScan() };
    latest = scan;
    scan.table.then(
      () => (scan.settled = true),
      () => {
        scan.settled = true;
        if (latest === scan) latest = undefined;
      },
    );
    return scan.table;
  }
}

function runScan(): Promise<DeviceTable> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    // The parent's NODE_OPTIONS (an --inspect port, a loader) are for the parent; the scan is plain JavaScript.
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ['-e', SCAN_SCRIPT, naudiodonBindingPath(), portAudioBindingPath()], { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    // ALSA talks on stderr about every PCM it cannot open; the tail is what explains a failure.
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const fail = (why: string) => reject(new BridgeError('scan-failed', `device scan failed: ${why}`));
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`no answer within ${SCAN_DEADLINE_MS} ms (is the sound server hung?)`);
    }, SCAN_DEADLINE_MS);
    child.on('error', (e) => {
      clearTimeout(deadline);
      fail(`cannot start ${process.execPath}: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (code !== 0) {
        const tail = err.trim().split('\n').slice(-3).join(' | ');
        return fail(`the scanning process exited with ${signal ?? code}${tail ? `: ${tail}` : ''}`);
      }
      try {
        resolve(deviceTable(JSON.parse(Buffer.concat(out).toString()) as DeviceEnumeration));
      } catch (e) {
        fail(`unreadable answer (${(e as Error).message})`);
      }
    });
  });
}

export type DeviceReach = 'open-now' | 'after-rescan';

/**
 * Whether a stream can open `id` with this process's PortAudio as it is ('open-now'), or only once every stream has
 * let go of PortAudio so that it enumerates again ('after-rescan'). An id no scan knows is 'unknown-device' naming
 * `field`, listing the devices present now.
 */
export async function locateDevice(id: string | null, direction: Direction, field: string): Promise<DeviceReach> {
  try {
    resolveDevice(id, direction, field);
    return 'open-now';
  } catch (e) {
    if (!(e instanceof BridgeError) || (e.code !== 'unknown-device' && e.code !== 'no-device')) throw e;
  }
  try {
    findDevice(await scanDevices(), id, direction, field);
  } catch (e) {
    if (!(e instanceof BridgeError) || e.code !== 'unknown-device') throw e;
    // The shared scan may predate the device (plugged in within the last second): ask once more, fresh.
    findDevice(await scanDevices(0), id, direction, field);
  }
  if (abandonedStreamCount() > 0) throw rescanBlocked(id, field);
  return 'after-rescan';
}

/** A stream that never let go of a vanished device keeps PortAudio initialized for the life of the process. */
export function rescanBlocked(id: string | null, field: string): BridgeError {
  return new BridgeError(
    'open-failed',
    `${field}: "${id}" arrived after the sound devices opened, and PortAudio cannot look for it again while a stream on an unplugged device still holds it; restart the station to use it`,
    field,
  );
}
