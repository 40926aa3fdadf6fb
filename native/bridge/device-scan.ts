import { DeviceScanner } from './device-scanner';
import { deviceTable, findDevice, resolveDevice, type DeviceTable, type Direction } from './devices';
import { BridgeError } from './errors';
import { abandonedStreamCount } from './watchdog';

/**
 * PortAudio enumerates devices only when it initializes, and our streams keep it initialized (Pa_Initialize counts
 * references): while any stream is open, this process's device table is the one from when the first stream opened,
 * blind to a headset plugged in since. Only a PortAudio of its own sees the devices as they are now, so the scan
 * runs in a child process (device-scanner.ts), which also keeps ALSA's ~70 ms probe of every PCM off the event loop
 * that feeds the speaker.
 */

/** A listing asked for within this long of the last scan's start is answered from that scan (a UI polls; a flood of requests is one scan a second). */
export const SCAN_REUSE_MS = 1000;
/** A scan normally takes 100-200 ms; past this something hangs (a wedged sound server). */
export const SCAN_DEADLINE_MS = 5000;

const scanner = new DeviceScanner();

/** Starts this thread's scanning process ahead of the first listing: call it before any device opens. */
export function startDeviceScanner(): void {
  try {
    scanner.start();
  } catch {
    // A binding that cannot be found: the first listing says so, as scan-failed.
  }
}

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
      // Too old for this caller, but still running: one scan at a time, then the next.
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

async function runScan(): Promise<DeviceTable> {
  const found = await scanner.scan(SCAN_DEADLINE_MS);
  try {
    return deviceTable(found);
  } catch (e) {
    throw new BridgeError('scan-failed', `device scan failed: unreadable answer (${(e as Error).message})`);
  }
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
