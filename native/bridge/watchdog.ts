/**
 * Notices a device that stopped moving: an unplugged card never calls back, so naudiodon's pending read or write
 * simply never resolves. The timer is unref'd: it never keeps a process alive.
 */
export class DeviceWatchdog {
  private readonly opened = performance.now();
  private last = this.opened;
  private started = false;
  private readonly timer: NodeJS.Timeout;

  /**
   * `startMs`: how long the device may pause while it starts up. A device is slow to start where it answers its
   * first periods slowly or in bursts (Bluetooth, USB, a sound server's idle sink that renders in 2 s blocks until it
   * has retuned to the low latency a client asked for): a pause that begins within `startMs` of the open may last
   * that long. After that, a pause of `stallMs` means the device is gone.
   */
  constructor(stallMs: number, onStall: (stalledMs: number, started: boolean) => void, startMs = stallMs) {
    const every = Math.max(50, stallMs / 8);
    let checked = this.opened;
    this.timer = setInterval(() => {
      const now = performance.now();
      // A check that comes late means this thread itself was held: the device's ticks may be queued behind it, so
      // the device is judged on the next check, once they have run.
      const late = now - checked > 2 * every + 50;
      checked = now;
      if (late) return;
      const stalled = now - this.last;
      const starting = this.last - this.opened < startMs;
      if (stalled > (starting ? startMs : stallMs)) {
        clearInterval(this.timer);
        onStall(stalled, this.started);
      }
    }, every);
    this.timer.unref();
  }

  progress(): void {
    this.started = true;
    this.last = performance.now();
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}

/** Streams whose native thread could not be stopped; a process holding any cannot exit normally (see exitProcess). */
let abandonedStreams = 0;
export function noteAbandoned(): void {
  abandonedStreams++;
}
export function abandonedStreamCount(): number {
  return abandonedStreams;
}

/**
 * Node joins the libuv threadpool at exit, and a stream whose device vanished holds a pool thread that never
 * returns. Then process.exit would hang forever; terminating is the only way out.
 */
export function exitProcess(code: number, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): never {
  if (abandonedStreams > 0) {
    log(`${abandonedStreams} sound device stream(s) did not stop (device unplugged?); terminating without waiting for them`);
    process.kill(process.pid, 'SIGKILL');
  }
  process.exit(code);
}
