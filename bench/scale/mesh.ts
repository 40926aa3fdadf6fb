/**
 * Where the mesh ends: N stations on one line, each a real station process (`npm run station`, its own werift peer
 * per other station, its own media thread and sound-server streams), so what one station costs is what a crew
 * member's machine runs. Station A talks a tone from the start; station B joins halfway and talks a second tone.
 * Two listeners are recorded and checked for gaps; CPU and memory are read per process from /proc.
 */
import { SignallingServer } from '../../electron/signalling/server';
import { silentRuns } from '../../testkit/fault-rig';
import { sleep, type PulseHarness } from '../../testkit/pulse';
import { dominantFrequency, onset, tone, RATE } from '../../testkit/signal';
import { StationProcess } from '../../testkit/station-process';
import { median } from '../support/chirp';
import { RIG_FAR_ID, RIG_MIC_ID, startRig } from '../support/latency-rig';
import { measureBursts } from '../latency';
import { cpuMeter, rssMb } from './proc-usage';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

export interface MeshPoint {
  n: number;
  /** Mean over all N station processes, % of one core, with all N on the line and both talking. */
  cpu_pct_per_station: number;
  /** The first talker: it sends to every other station, so it pays most. */
  talker_cpu_pct: number;
  /** The sound server carrying every station's devices on this one machine (a real crew has one per machine). */
  sound_server_cpu_pct: number;
  /** The stations and the sound server together, % of one core: the load this bench puts on the machine. */
  bench_cpu_pct: number;
  /** Every CPU on the machine, busy %, other work (other users of this machine) included. */
  machine_busy_pct: number;
  rss_mb_per_station: number;
  /** Per recorded listener. */
  underruns: number[];
  gaps: number[];
  /** Of `gaps`, those from half a second before to 3 s after the last joiner's join. */
  join_gaps: number[];
  gap_ms: number[];
  heard_hz: number[];
  join_to_first_audio_ms: number;
  one_way_latency_ms: number;
}

export interface MeshOptions {
  sizes: number[];
  /** Seconds before the second talker joins, and of steady talk after it is heard. */
  halfSeconds: number;
  bursts: number;
  log: (line: string) => void;
}

const CORES = cpus().length;
/** The share of all cores at which the machine counts as saturated by the bench itself. */
const SATURATED = 0.85;
const TONE_A = 440;
const TONE_B = 660;
const NOWHERE = ['--input', 'PulseAudio:nowhere.monitor#0', '--output', 'PulseAudio:nowhere#0'];

interface Listener {
  label: string;
  station: () => StationProcess;
  source: string;
  hz: number;
}

/** Busy share of all CPUs between two reads of /proc/stat. */
function machineMeter(): () => number {
  const read = () => {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  return () => {
    const b = read();
    return (100 * (1 - (b.idle - a.idle) / (b.total - a.total)));
  };
}

function soundServerPid(pulse: PulseHarness): number {
  return Number(readFileSync(join(pulse.dir, 'run', 'pulse', 'pid'), 'utf8').trim());
}

/** Wall-clock ms of a station log line's time of day (UTC, as the station prints it). */
function clockMs(line: string): number {
  const m = /^(\d\d):(\d\d):(\d\d)\.(\d{3})/.exec(line);
  if (!m) return NaN;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
}

function underrunsSince(s: StationProcess, from: number): number {
  let n = 0;
  for (const l of s.lines.slice(from)) {
    const m = /\[audio\] speaker underran (\d+) time/.exec(l);
    if (m) n += Number(m[1]);
  }
  return n;
}

async function runPoint(pulse: PulseHarness, url: string, n: number, options: MeshOptions): Promise<MeshPoint> {
  const common = ['--server', url, '--insecure', '--line', 'main', '--meters-every', '0'];
  const stations: StationProcess[] = [];
  // The first talker hears nobody until B talks; at N = 2 it is the second listener, and B (on the rig's far end) the first.
  const a = new StationProcess(['--name', 'A', '--talk', 'main', '--input', RIG_MIC_ID, '--output', n <= 3 ? pulse.devices('l2').serverOutputId : 'PulseAudio:nowhere#0', ...common], pulse.env);
  stations.push(a);
  const others: StationProcess[] = [];
  const listenerNames = n >= 4 ? ['L1', 'L2'] : n === 3 ? ['L1'] : [];
  for (let i = 0; i < n - 2; i++) {
    const name = listenerNames[i] ?? `F${i + 1}`;
    const out = name === 'L1' ? ['--input', 'PulseAudio:nowhere.monitor#0', '--output', RIG_FAR_ID] : name === 'L2' ? ['--input', 'PulseAudio:nowhere.monitor#0', '--output', pulse.devices('l2').serverOutputId] : NOWHERE;
    others.push(new StationProcess(['--name', name, ...out, ...common], pulse.env));
  }
  stations.push(...others);
  let b: StationProcess | undefined;
  const talks: { stop: () => void }[] = [];
  try {
    await Promise.all(others.map((s) => s.waitFor(/\[peer A\] first RTP/, 30_000 + 4000 * n)));
    await sleep(1000);

    const listeners: Listener[] = [];
    if (n >= 3) listeners.push({ label: 'L1', station: () => others[0] as StationProcess, source: 'rig_far.monitor', hz: TONE_A });
    if (n >= 4) listeners.push({ label: 'L2', station: () => others[1] as StationProcess, source: 'l2_spk.monitor', hz: TONE_A });
    if (n === 2) listeners.push({ label: 'B', station: () => b as StationProcess, source: 'rig_far.monitor', hz: TONE_A }, { label: 'A', station: () => a, source: 'l2_spk.monitor', hz: TONE_B });
    if (n === 3) listeners.push({ label: 'A', station: () => a, source: 'l2_spk.monitor', hz: TONE_B });

    const talkSeconds = options.halfSeconds * 2 + 30;
    talks.push(pulse.inject('rig', tone(TONE_A, talkSeconds, -12), 'front-left'));
    const recordings = listeners.map((l) => pulse.record(l.source));
    const recordedFrom = Date.now() % 86_400_000;
    const logFrom = new Map<StationProcess, number>(stations.map((s) => [s, s.lines.length]));
    await sleep(options.halfSeconds * 1000);

    talks.push(pulse.inject(pulse.devices('b').micSink, tone(TONE_B, talkSeconds, -12)));
    b = new StationProcess(['--name', 'B', '--talk', 'main', '--input', pulse.devices('b').serverInputId, '--output', n === 2 ? RIG_FAR_ID : pulse.devices('b').serverOutputId, ...common], pulse.env);
    stations.push(b);
    logFrom.set(b, 0);
    const joined = await b.waitFor(/^(.*) \[signal\] joined main/, 30_000 + 2000 * n);
    const firstAudio = await b.waitFor(/^(.*) \[peer A\] first RTP/, 30_000 + 2000 * n);
    const joinToAudio = clockMs(firstAudio[0]) - clockMs(joined[0]);
    await Promise.all(stations.filter((s) => s !== b).map((s) => s.waitFor(/\[peer B\] first RTP/, 30_000 + 2000 * n)));

    const pids = stations.map((s) => s.pid as number);
    const soundServer = soundServerPid(pulse);
    const cpu = cpuMeter([...pids, soundServer]);
    const machine = machineMeter();
    await sleep(options.halfSeconds * 1000);
    const usage = cpu();
    const busy = machine();
    const rss = pids.map(rssMb);
    const heard = await Promise.all(recordings.map((r) => r.stop()));
    for (const t of talks.splice(0)) t.stop();

    const gaps: number[] = [];
    const joinGaps: number[] = [];
    const gapMs: number[] = [];
    const joinAt = ((clockMs(joined[0]) - recordedFrom) / 1000) * RATE;
    const nearJoin = ([start]: [number, number]) => start >= joinAt - 0.5 * RATE && start <= joinAt + 3 * RATE;
    const hz: number[] = [];
    const underruns: number[] = [];
    for (const [i, l] of listeners.entries()) {
      const x = heard[i] as Int16Array;
      const st = l.station();
      const start = onset(x, -40);
      // From when the listener first hears its talker to the end of the recording, less the last 300 ms.
      const from = start < 0 ? x.length : start + Math.round(0.5 * RATE);
      const to = x.length - Math.round(0.3 * RATE);
      const runs = from < to ? silentRuns(x, from, to) : [];
      gaps.push(start < 0 ? -1 : runs.length);
      joinGaps.push(runs.filter(nearJoin).length);
      gapMs.push(runs.reduce((sum, [, frames]) => sum + frames * 10, 0));
      hz.push(start < 0 ? 0 : dominantFrequency(x, 100, 4000, from, Math.min(to, from + 2 * RATE)));
      underruns.push(underrunsSince(st, logFrom.get(st) ?? 0));
      if (runs.length) {
        options.log(`  N=${n} ${l.label}: gaps at ${runs.slice(0, 8).map(([s, f]) => `${(s / RATE).toFixed(2)} s (${f * 10} ms)`).join(', ')}${runs.length > 8 ? ', ...' : ''}; B joined at ${(joinAt / RATE).toFixed(2)} s`);
        // What the listener and the first talker logged around the first gap: where it came from.
        const gapClock = recordedFrom + ((runs[0] as [number, number])[0] / RATE) * 1000;
        for (const [who, station] of [[l.label, st], ['A', a]] as const) {
          for (const line of station.lines) {
            const t = clockMs(line);
            if (Math.abs(t - gapClock) <= 1500 && /\[(audio|playout|peer|media)/.test(line)) options.log(`    ${who}: ${line}`);
          }
        }
      }
    }

    const lags = await measureBursts(pulse, options.bursts);
    const talker = usage[0] as number;
    const stationCpu = usage.slice(0, pids.length);
    return {
      n,
      cpu_pct_per_station: round(stationCpu.reduce((x, y) => x + y, 0) / pids.length),
      talker_cpu_pct: round(talker),
      sound_server_cpu_pct: round(usage[pids.length] as number),
      bench_cpu_pct: round(usage.reduce((x, y) => x + y, 0)),
      machine_busy_pct: round(busy),
      rss_mb_per_station: round(rss.reduce((x, y) => x + y, 0) / rss.length),
      underruns,
      gaps,
      join_gaps: joinGaps,
      gap_ms: gapMs,
      heard_hz: hz,
      join_to_first_audio_ms: round(joinToAudio),
      one_way_latency_ms: lags.length ? round(median(lags)) : NaN,
    };
  } finally {
    for (const t of talks) t.stop();
    await Promise.all(stations.map((s) => s.stop()));
  }
}

export interface MeshResult {
  points: MeshPoint[];
  /** The largest N that carried both talkers without a gap at either listener, on a machine not saturated. */
  meshMaxMembers: number;
  /** The same, counting only gaps away from the last joiner's join. */
  meshMaxMembersSteady: number;
  stoppedBecause: string;
}

export async function measureMesh(options: MeshOptions): Promise<MeshResult> {
  const { log } = options;
  const pulse = await startRig(['b', 'l2']);
  const server = new SignallingServer({ port: 0 });
  const { url } = await server.start();
  const points: MeshPoint[] = [];
  let meshMaxMembers = 0;
  let meshMaxMembersSteady = 0;
  let clean = true;
  let stoppedBecause = `no gaps away from a join up to N = ${options.sizes.at(-1)}, the largest size this run tries`;
  try {
    for (const n of options.sizes) {
      const p = await runPoint(pulse, url, n, options);
      points.push(p);
      log(
        `mesh N=${String(n).padStart(2)}: CPU/station ${p.cpu_pct_per_station}% (talker ${p.talker_cpu_pct}%, sound server ${p.sound_server_cpu_pct}%, all of it ${p.bench_cpu_pct}% of ${CORES * 100}%, machine ${p.machine_busy_pct}% busy), ` +
          `RSS/station ${p.rss_mb_per_station} MiB, listeners: underruns ${p.underruns.join('/')}, gaps ${p.gaps.join('/')} (${p.gap_ms.join('/')} ms; at the join ${p.join_gaps.join('/')}), heard ${p.heard_hz.join('/')} Hz; ` +
          `last joiner's join-to-first-audio ${p.join_to_first_audio_ms} ms, one-way latency ${p.one_way_latency_ms} ms`,
      );
      // A gap at a join is heard by a crew at every join, but says little about how many members a line carries:
      // the sweep goes on past it and stops at gaps away from the join.
      const gapped = p.gaps.some((g, i) => g !== 0 && g !== p.join_gaps[i]);
      if (p.gaps.some((g) => g !== 0)) clean = false;
      // Saturation is judged on the bench's own load: other users of a shared machine would otherwise end it early.
      const saturated = p.bench_cpu_pct >= SATURATED * CORES * 100;
      if (gapped || saturated) {
        stoppedBecause = `at N = ${n} ${[gapped ? 'a listener heard gaps away from the join' : '', saturated ? `the stations and sound server used ${p.bench_cpu_pct}% of ${CORES * 100}%` : ''].filter(Boolean).join(' and ')}`;
        break;
      }
      if (clean) meshMaxMembers = n;
      meshMaxMembersSteady = n;
    }
  } finally {
    await server.close();
    await pulse.stop();
  }
  log(`mesh: largest N without a gap ${meshMaxMembers}, without a gap away from a join ${meshMaxMembersSteady}; stopped because ${stoppedBecause}`);
  return { points, meshMaxMembers, meshMaxMembersSteady, stoppedBecause };
}

const round = (x: number) => Math.round(x * 10) / 10;
