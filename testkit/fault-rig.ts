/**
 * The rig the fault tests and the faults bench share: a NetLab with hosts `a`, `b` (stations A and B) and `s` (the
 * signalling server), a PulseAudio daemon with both stations' devices, and the processes that run in the hosts.
 * Each station talks a tone of its own (A 440 Hz, B 660 Hz) on line `main`; each speaker is recorded.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { PulseHarness, sleep } from './pulse';
import { StationProcess } from './station-process';
import { NetLab } from './netns';
import { tone, dominantFrequency, silentFrames, tonePresenceDb, RATE } from './signal';

const ROOT = join(__dirname, '..');
export const SERVER_PORT = 7000;
export const FRAME = RATE / 100;
export const TONES = { A: 440, B: 660 } as const;

/** A process in a lab host whose output lines are kept, with the time each arrived. */
export class Service {
  readonly lines: { at: number; text: string }[] = [];
  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', (text) => this.lines.push({ at: Date.now(), text }));
  }

  async waitFor(pattern: RegExp, timeoutMs = 15000): Promise<{ at: number; match: RegExpMatchArray }> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      for (const l of this.lines) {
        const match = pattern.exec(l.text);
        if (match) return { at: l.at, match };
      }
      if (Date.now() > until) throw new Error(`no line matching ${pattern} in:\n${this.lines.map((l) => l.text).join('\n')}`);
      await sleep(20);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}

export interface FaultRig {
  lab: NetLab;
  pulse: PulseHarness;
}

export async function startRig(): Promise<FaultRig> {
  const lab = await NetLab.create(['a', 'b', 's']);
  try {
    return { lab, pulse: await PulseHarness.start(['a', 'b']) };
  } catch (e) {
    await lab.close();
    throw e;
  }
}

export async function stopRig(rig: FaultRig | undefined): Promise<void> {
  await rig?.pulse.stop();
  await rig?.lab.close();
}

export function serverUrl(rig: FaultRig): string {
  return `ws://${rig.lab.host('s').address}:${SERVER_PORT}`;
}

/** The standalone signalling server in host `s`, always on the same port; resolves once it listens. */
export async function startServer(rig: FaultRig): Promise<{ server: Service; listeningAt: number }> {
  const child = rig.lab.spawnIn('s', process.execPath, ['--import', 'tsx', 'electron/cli/signal.ts', '--port', String(SERVER_PORT), '--bind', rig.lab.host('s').address], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = new Service(child);
  return { server, listeningAt: (await server.waitFor(/signalling on/)).at };
}

export interface Relay extends Service {
  url: string;
  command(cmd: unknown): void;
}

/** The UDP relay and its signalling proxy in the switch's namespace, in front of the server: stations given `url` talk through it. */
export async function startRelay(rig: FaultRig): Promise<Relay> {
  const child = rig.lab.spawnIn('mid', process.execPath, ['--import', 'tsx', 'testkit/relay-process.ts', rig.lab.mid.address, serverUrl(rig), '20261206'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const service = new Service(child);
  const url = (await service.waitFor(/proxy (ws:\/\/\S+)/)).match[1] as string;
  return Object.assign(service, { url, command: (cmd: unknown) => void child.stdin?.write(`${JSON.stringify(cmd)}\n`) });
}

/** Stations A and B on line `main`, both talking, in hosts a and b; resolves once each hears the other. */
export async function startStations(rig: FaultRig, url: string): Promise<StationProcess[]> {
  const { pulse, lab } = rig;
  const dev = (s: string) => ['--input', pulse.devices(s).serverInputId, '--output', pulse.devices(s).serverOutputId];
  const stations = ['a', 'b'].map(
    (h) => new StationProcess(['--name', h.toUpperCase(), '--server', url, '--insecure', '--line', 'main', '--talk', 'main', ...dev(h)], pulse.env, h.toUpperCase(), lab.host(h).ns),
  );
  try {
    await Promise.all([stations[0]?.waitFor(/\[peer B\] first RTP/, 20000), stations[1]?.waitFor(/\[peer A\] first RTP/, 20000)]);
  } catch (e) {
    await Promise.all(stations.map((s) => s.stop()));
    throw e;
  }
  return stations;
}

/** Each microphone gets its station's tone for `seconds`; both speakers are recorded from now. */
export function talkAndRecord(rig: FaultRig, seconds: number) {
  const { pulse } = rig;
  const talks = [pulse.inject(pulse.devices('a').micSink, tone(TONES.A, seconds, -12)), pulse.inject(pulse.devices('b').micSink, tone(TONES.B, seconds, -12))];
  const startedAt = Date.now();
  const recs = { atB: pulse.record(pulse.devices('b').speakerMonitor), atA: pulse.record(pulse.devices('a').speakerMonitor) };
  return {
    /** When recording began (wall clock): sample i is about startedAt + i / RATE s. */
    startedAt,
    stop: async () => {
      const [atB, atA] = await Promise.all([recs.atB.stop(), recs.atA.stop()]);
      talks.forEach((t) => t.stop());
      return { atB, atA };
    },
    abort: () => talks.forEach((t) => t.stop()),
  };
}

/** Runs of consecutive silent 10 ms frames in [from, to): [start sample, length in frames]. */
export function silentRuns(x: Int16Array, from: number, to: number): [number, number][] {
  const runs: [number, number][] = [];
  for (const s of silentFrames(x, -40, from, to)) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] * FRAME === s) last[1]++;
    else runs.push([s, 1]);
  }
  return runs;
}

/**
 * Whether `hz` is what plays in [from, to): the dominant frequency of its first 2 s, and the tone's level in each
 * second after (a frequency scan of the whole span would take longer than the call).
 */
export function heardThroughout(x: Int16Array, hz: number, from: number, to: number): { frequency: number; quietSeconds: number[]; minDb: number } {
  const frequency = dominantFrequency(x, 100, 4000, from, Math.min(to, from + 2 * RATE));
  const quietSeconds: number[] = [];
  let minDb = Infinity;
  for (let s = from; s + RATE <= to; s += RATE) {
    const db = tonePresenceDb(x, hz, s, s + RATE);
    minDb = Math.min(minDb, db);
    if (db < -30) quietSeconds.push(Math.round(s / RATE));
  }
  return { frequency, quietSeconds, minDb };
}

/** The lines that tell a call's story: joins, connection changes, calls kept or repaired. */
export function callEvents(s: StationProcess): string[] {
  return s.lines.filter((l) => /\[peer [AB]\] (closed|failed|no-rtp|connected|silent:|failed:)|\[signal\] joined|its call stays up|back in presence|no offer came/.test(l));
}

/** The speaker's and the playout's own reports: what a dropout at that station's speaker came from. */
export function speakerEvents(s: StationProcess): string[] {
  return s.lines.filter((l) => /\[audio\] speaker|\[playout\]/.test(l));
}

/**
 * Counts each station's joins from now; `after(at)` resolves each one's first join since, in ms from `at` (Infinity
 * after `timeoutMs`). Counted from before the fault, so a rejoin quicker than the caller's own polling is not missed.
 */
export function watchRejoins(stations: StationProcess[]): { after: (at: number, timeoutMs?: number) => Promise<number[]> } {
  const joins = (s: StationProcess) => s.lines.filter((x) => /\[signal\] joined$/.test(x.trim())).length;
  const before = stations.map(joins);
  return {
    after: (at, timeoutMs = 10000) =>
      Promise.all(
        stations.map(async (s, i) => {
          for (;;) {
            const joined = s.lines.filter((x) => /\[signal\] joined$/.test(x.trim()));
            if (joined.length > (before[i] as number)) return Date.now() - at;
            if (Date.now() - at > timeoutMs) return Infinity;
            await sleep(20);
          }
        }),
      ),
  };
}
