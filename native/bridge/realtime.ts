import { loadPortAudio } from './binding';

/**
 * Real-time scheduling for the threads the devices wait on. First set directly, where this process may (root,
 * CAP_SYS_NICE, or an RLIMIT_RTPRIO such as an `@audio - rtprio 95` line in limits.conf), as JACK and PipeWire do;
 * otherwise asked of rtkit over D-Bus, as PulseAudio and PipeWire ask for theirs: a desktop user is neither root nor
 * allowed a negative nice value, but rtkit grants a bounded SCHED_RR to a thread of a process that limits its own
 * real-time CPU time (RLIMIT_RTTIME), and a raised nice value to others. The sound server's own I/O threads run at
 * SCHED_RR wherever it got it: a client thread at a mere nice value answers them late whenever the cores are busy.
 *
 * The device callback threads (PortAudio's, libpulse's) only copy to and from a ring: they get SCHED_RR 5. The media
 * thread decodes, mixes and encodes what they carry: it gets SCHED_RR 4, below them. A nice value is not enough for
 * it: it orders threads within one scheduling group only, and with autogroups (a session each) or cgroups (an app
 * each) any busy process of another group holds it up. It runs JavaScript, where a GC or a long task
 * may run on: a real-time thread over the hard RLIMIT_RTTIME is killed, so the media thread is guarded, and SIGXCPU at
 * the soft limit (half) puts it back to its nice value at once (guardRealtime). Refusal is normal (no rtkit, no system
 * bus, a sandbox): the speaker margin then covers what the scheduler does, and the reason is logged.
 *
 * Windows (MMCSS) and macOS (CoreAudio's own real-time threads) are not handled here yet.
 */
export type Grant = { thread: string; tid: number; granted: string } | { thread: string; tid: number; refused: string };

const RTKIT = 'org.freedesktop.RealtimeKit1';
const RTKIT_PATH = '/org/freedesktop/RealtimeKit1';
/** PulseAudio's choice: above ordinary real-time work, far below the kernel's own. */
export const DEVICE_PRIORITY = 5;
/** Below the device threads, which it must never hold up, and above every thread at a nice value. */
export const MEDIA_PRIORITY = 4;
/** Below the media thread, which its bursts must not hold up, and above every thread at a nice value. */
export const NETWORK_PRIORITY = 3;
const HIGH_PRIORITY_NICE = -11;
/** rtkit's own default bound: a real-time thread that runs this long without sleeping is killed (SIGXCPU at half). */
const RTTIME_USEC = 200_000;
/** How long a D-Bus round trip may take before the request counts as refused. */
const DEADLINE_MS = 2000;

interface RtkitInterface {
  MakeThreadRealtime(tid: bigint, priority: number): Promise<void>;
  MakeThreadHighPriority(tid: bigint, nice: number): Promise<void>;
}

type DbusModule = typeof import('dbus-next');

/** One connection to rtkit for the process; `why` says why there is none. */
export class RealtimeKit {
  private constructor(
    private readonly bus: ReturnType<DbusModule['systemBus']> | undefined,
    private readonly rtkit: RtkitInterface | undefined,
    private readonly limits: { maxPriority: number; minNice: number } | undefined,
    readonly why: string | undefined,
  ) {}

  /** Connects to the system bus and rtkit, and sets the process's RLIMIT_RTTIME to what rtkit requires. */
  static async connect(): Promise<RealtimeKit> {
    if (process.platform !== 'linux') return new RealtimeKit(undefined, undefined, undefined, `real-time scheduling through rtkit is Linux's; ${process.platform} is not handled yet`);
    let bus: ReturnType<DbusModule['systemBus']> | undefined;
    try {
      const dbus = require('dbus-next') as DbusModule;
      dbus.setBigIntCompat(true);
      bus = dbus.systemBus();
      // A bus that is not there errors asynchronously; until then calls just wait.
      const failed = new Promise<never>((_, reject) => bus?.on('error', (e: Error) => reject(new Error(`no system D-Bus (${e.message})`))));
      failed.catch(() => undefined);
      const ready = (async () => {
        const object = await (bus as NonNullable<typeof bus>).getProxyObject(RTKIT, RTKIT_PATH);
        const props = object.getInterface('org.freedesktop.DBus.Properties') as unknown as { Get(i: string, p: string): Promise<{ value: unknown }> };
        const [maxPriority, minNice, rttime] = await Promise.all(['MaxRealtimePriority', 'MinNiceLevel', 'RTTimeUSecMax'].map((p) => props.Get(RTKIT, p).then((v) => Number(v.value))));
        return { rtkit: object.getInterface(RTKIT) as unknown as RtkitInterface, maxPriority: maxPriority as number, minNice: minNice as number, rttime: rttime as number };
      })();
      const found = await withDeadline(Promise.race([ready, failed]), 'rtkit did not answer');
      loadPortAudio().limitRealtime?.(found.rttime);
      return new RealtimeKit(bus, found.rtkit, { maxPriority: found.maxPriority, minNice: found.minNice }, undefined);
    } catch (e) {
      bus?.disconnect();
      const message = (e as Error).message;
      return new RealtimeKit(undefined, undefined, undefined, /ServiceUnknown|was not provided/.test(message) ? `rtkit is not running (${message})` : message);
    }
  }

  /** SCHED_RR for a thread that never waits on anything but the device (or, guarded, the media thread). */
  realtime(thread: string, tid: number, wanted = DEVICE_PRIORITY): Promise<Grant> {
    return this.ask(thread, tid, (rtkit, limits) => {
      const priority = Math.min(wanted, limits.maxPriority);
      return rtkit.MakeThreadRealtime(BigInt(tid), priority).then(() => `SCHED_RR ${priority} from rtkit`);
    });
  }

  /** A raised nice value for a thread that runs JavaScript. */
  highPriority(thread: string, tid: number): Promise<Grant> {
    return this.ask(thread, tid, (rtkit, limits) => {
      const nice = Math.max(HIGH_PRIORITY_NICE, limits.minNice);
      return rtkit.MakeThreadHighPriority(BigInt(tid), nice).then(() => `nice ${nice} from rtkit`);
    });
  }

  /** One request to rtkit for one thread; any refusal, with its reason, is an answer too. */
  private async ask(thread: string, tid: number, request: (rtkit: RtkitInterface, limits: { maxPriority: number; minNice: number }) => Promise<string>): Promise<Grant> {
    if (!this.rtkit || !this.limits) return { thread, tid, refused: this.why ?? 'no rtkit' };
    if (!(tid > 0)) return { thread, tid, refused: 'its thread id is not known' };
    try {
      return { thread, tid, granted: await withDeadline(request(this.rtkit, this.limits), 'rtkit did not answer') };
    } catch (e) {
      return { thread, tid, refused: (e as Error).message };
    }
  }

  close(): void {
    this.bus?.disconnect();
  }
}

/**
 * SCHED_RR for a thread, set directly: granted where this process may, refused with the kernel's reason where not
 * (then rtkit is the way). The process's RLIMIT_RTTIME is bounded first, as rtkit would require.
 */
export function realtimeDirect(thread: string, tid: number, priority = DEVICE_PRIORITY): Grant {
  const pa = loadPortAudio();
  if (!pa.makeRealtime) return { thread, tid, refused: `setting real-time scheduling directly is Linux's; ${process.platform} is not handled yet` };
  if (!(tid > 0)) return { thread, tid, refused: 'its thread id is not known' };
  try {
    pa.limitRealtime?.(RTTIME_USEC);
    pa.makeRealtime(tid, priority);
    return { thread, tid, granted: `SCHED_RR ${priority}, set directly` };
  } catch (e) {
    return { thread, tid, refused: (e as Error).message };
  }
}

/** A thread back to SCHED_OTHER at its nice value, as any process may put its own threads: undefined, or why not. */
export function ordinaryDirect(tid: number): string | undefined {
  const pa = loadPortAudio();
  if (!pa.makeOrdinary) return `scheduling policies are Linux's; ${process.platform} is not handled yet`;
  if (!(tid > 0)) return 'its thread id is not known';
  try {
    pa.makeOrdinary(tid);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * A thread that runs JavaScript goes back to its nice value at the first SIGXCPU, before the hard RLIMIT_RTTIME would
 * kill the process. Call it before the thread is made real-time; false where there is no such guard (then do not).
 */
export function guardJavaScriptThread(tid: number): boolean {
  const pa = loadPortAudio();
  if (!pa.guardRealtime || !(tid > 0)) return false;
  pa.guardRealtime(tid);
  return true;
}

/** Guarded threads put back to their nice value so far (see guardJavaScriptThread). */
export function realtimeDemotions(): number {
  return loadPortAudio().realtimeDemotions?.() ?? 0;
}

/** The calling thread's kernel id (Linux), or 0. */
export function currentThreadId(): number {
  return loadPortAudio().threadId?.() ?? 0;
}

function withDeadline<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${DEADLINE_MS} ms`)), DEADLINE_MS);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A grant as a log line. */
export function describeGrant(g: Grant): string {
  return 'granted' in g ? `${g.thread} thread ${g.tid}: ${g.granted}` : `${g.thread} thread ${g.tid}: not raised (${g.refused})`;
}
