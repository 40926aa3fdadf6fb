/**
 * Notices a device that stopped moving: an unplugged card never calls back, so naudiodon's pending read or write
 * simply never resolves. The timer is unref'd: it never keeps a process alive.
 */
export class DeviceWatchdog {
  private last = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(stallMs: number, onStall: (stalledMs: number) => void) {
    this.timer = setInterval(() => {
      const stalled = performance.now() - this.last;
      if (stalled > stallMs) {
        clearInterval(this.timer);
        onStall(stalled);
      }
    }, Math.max(50, stallMs / 4));
    this.timer.unref();
  }

  progress(): void {
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
