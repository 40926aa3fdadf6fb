import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * The nice value an audio process asks for: PulseAudio's own default (`nice-level = -11`). A station's speaker
 * queue holds 20 ms; a process at the same priority as a busy neighbour can wait longer than that for a core, and
 * the listener hears the gap.
 */
export const AUDIO_NICE = -11;

export type PriorityResult = { raised: true; nice: number; threads: number } | { raised: false; nice: number; reason: string };

/**
 * Raises this process's scheduling priority for audio, best effort, before any device opens.
 *
 * On Linux a nice value belongs to a thread: threads started later (PortAudio's callback thread, libuv's threadpool
 * that runs naudiodon's reads and writes) inherit it from the thread that creates them, and the ones that already
 * exist are raised one by one. Elsewhere Node maps it to the process's priority class. Without the privilege
 * (no root, no RLIMIT_NICE) the station runs at normal priority and says so: that is a warning, not a failure.
 */
export function raiseAudioPriority(nice = AUDIO_NICE): PriorityResult {
  const before = getPriority(0);
  if (before <= nice) return { raised: true, nice: before, threads: 0 };
  try {
    setPriority(0, nice);
  } catch (e) {
    return { raised: false, nice: before, reason: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  return { raised: true, nice: getPriority(0), threads: 1 + raiseOtherThreads(nice) };
}

/**
 * Threads that a real-time thread starts begin at nice 0 (SCHED_RESET_ON_FORK resets a raised nice value too): the
 * sound server client threads that ALSA's pulse plugin starts inside the media thread's stream open, for one. This
 * raises every thread but the main one (which runs at nice 0 on purpose) that is above `nice`; Linux only. Returns
 * how many it raised.
 */
export function raiseOtherThreads(nice = AUDIO_NICE): number {
  if (process.platform !== 'linux') return 0;
  let raised = 0;
  for (const tid of tasks()) {
    try {
      if (getPriority(tid) > nice) {
        setPriority(tid, nice);
        raised++;
      }
    } catch {
      // A thread that ended between the listing and the call, or one this process may not raise.
    }
  }
  return raised;
}

function tasks(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n) && n !== process.pid);
  } catch {
    return [];
  }
}
