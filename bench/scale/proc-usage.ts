/** CPU and memory of processes by pid, from /proc: what each station process costs, sampled from outside it. */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** User + system CPU time so far, in ms, of a process or of one of its threads (0 for one that is gone). */
export function cpuMs(pid: number, tid?: string): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
  } catch {
    return 0;
  }
}

/** Resident set size in MiB (0 for a process that is gone). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU used by `pids` between two calls, as % of one core over the wall time between them. */
export function cpuMeter(pids: number[]): () => number[] {
  const t0 = performance.now();
  const before = pids.map((pid) => cpuMs(pid));
  return () => {
    const wall = performance.now() - t0;
    return pids.map((pid, i) => (100 * (cpuMs(pid) - (before[i] as number))) / wall);
  };
}

/** The machine's load averages, for the record. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
