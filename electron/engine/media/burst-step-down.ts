/**
 * A real-time JavaScript thread that steps down to its nice value while it runs a known burst. A peer's ICE and DTLS
 * set-up keeps the network thread on a core for tens of ms at once; at SCHED_RR that holds up every thread at a nice
 * value on that core, the sound server's own among them, and every speaker it feeds runs dry meanwhile. At its nice
 * value the burst only takes a little longer. The thread goes back to real time once no burst is announced.
 */
export interface ThreadScheduling {
  /** Real time for the thread, as first granted (directly or from rtkit): resolves whether it was granted. */
  promote(): Promise<boolean>;
  /** Back to the thread's nice value: whether that was done. */
  demote(): boolean;
}

export class BurstStepDown {
  /** The tail after the last burst that ended. */
  private busyUntil = -Infinity;
  /** Bursts that end when they are said to (a peer's set-up ends when it connects), each with its own ceiling. */
  private readonly open = new Map<string, number>();
  private started = false;
  private realtime = false;
  private promoting = false;
  /** Real time was refused, or stepping down was: the thread stays as it is from then on. */
  private settled = false;

  constructor(
    private readonly thread: ThreadScheduling,
    private readonly now: () => number,
  ) {}

  /** Real time from now on, except during bursts (a burst announced before is waited out first). */
  start(): void {
    this.started = true;
    this.settle();
  }

  /** A burst named `key` begins now, and lasts until `end(key)`, or `maxMs` at most. */
  begin(key: string, maxMs: number): void {
    this.open.set(key, this.now() + maxMs);
    this.settle();
  }

  /** The burst `key` is over; real time comes back `tailMs` later, once no other burst runs. */
  end(key: string, tailMs: number): void {
    if (!this.open.delete(key)) return;
    this.busyUntil = Math.max(this.busyUntil, this.now() + tailMs);
    this.settle();
  }

  private busy(now: number): boolean {
    if (now < this.busyUntil) return true;
    for (const [key, until] of this.open) {
      if (now < until) return true;
      this.open.delete(key);
    }
    return false;
  }

  /** Called regularly: back to real time once the bursts are over. */
  settle(): void {
    if (!this.started || this.settled || this.promoting) return;
    if (this.busy(this.now())) {
      if (!this.realtime) return;
      if (this.thread.demote()) this.realtime = false;
      else this.settled = true;
      return;
    }
    if (this.realtime) return;
    this.promoting = true;
    void this.thread.promote().then((granted) => {
      this.promoting = false;
      this.realtime = granted;
      this.settled = !granted;
      // A burst announced while the grant was on its way.
      this.settle();
    });
  }

  get isRealtime(): boolean {
    return this.realtime;
  }
}
