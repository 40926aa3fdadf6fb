/**
 * Glitches under load: two stations on one line over loopback, both talking, for `minutes` per profile. A sends a
 * steady tone to B, B sends looping speech to A. Per profile: audible gaps at B (silent 10 ms frames of the tone,
 * plus frames B concealed for A), speaker underruns and microphone overruns of both, and the median one-way latency
 * B -> A. Profiles: idle (the anchor), a core spun by another process, the stations' main threads stalled, and the
 * main threads churning garbage. Every profile runs at `--priority normal` (what a desktop user gets), then again at
 * `--priority raised`.
 *
 *   npm run bench -- glitches [--minutes N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { silentFrames, tone } from '../testkit/signal';
import { deinterleave, median, percentile, RATE } from './support/chirp';
import { RIG_FAR_ID, RIG_MIC_ID, startRig } from './support/latency-rig';
import { loopedSpeech, windowLags } from './support/speech';

export const PROFILES = ['idle', 'busy_core', 'main_stall', 'gc'] as const;
export type Profile = (typeof PROFILES)[number];
export type Priority = 'normal' | 'raised';

/** What each profile adds to both stations' command lines. */
const PROFILE_ARGS: Record<Profile, string[]> = {
  idle: [],
  busy_core: [],
  main_stall: ['--debug-stall-main', '100/2000'],
  gc: ['--debug-main-garbage', '50'],
};

/** After both stations hear each other's first RTP: the playout has found its target and low latency its footing. */
const SETTLE_MS = 3000;
const TONE_HZ = 440;
const TONE_DB = -12;
/** A 10 ms frame of the tone (-15 dBFS RMS when whole) this quiet is a hole, not a quiet tone. */
const SILENT_DB = -40;
const LATENCY_TARGET_MS = 10;

export interface ProfileFigures {
  gaps: number | null;
  underruns: number | null;
  latency_ms: number | null;
}

export interface ProfileDetail {
  silent_frames: number;
  concealed_frames: number;
  underruns_a: number;
  underruns_b: number;
  overruns: number;
  /** Silent frames in A's microphone feed itself: a hole the harness made, not the stations. */
  feed_gaps: number;
  latency_windows: number;
  latency_p10_ms: number;
  latency_p90_ms: number;
  /** How often A's playout of B switched between low latency and a frame held. */
  playout_switches_a: number;
  measured_s: number;
  error?: string;
}

export interface GlitchesResult {
  bench: 'glitches';
  minutes: number;
  profiles: Record<Profile, ProfileFigures>;
  raised: Record<Profile, ProfileFigures>;
  [extra: string]: unknown;
}

export interface GlitchesOptions {
  minutes?: number;
  profiles?: readonly Profile[];
  log?: (line: string) => void;
}

interface Measured {
  figures: ProfileFigures;
  detail: ProfileDetail;
}

export async function runGlitchesBench(options: GlitchesOptions = {}): Promise<GlitchesResult> {
  const minutes = options.minutes ?? 5;
  const profiles = options.profiles ?? PROFILES;
  const log = options.log ?? ((l: string) => console.log(l));
  log(
    `glitches: ${minutes} min per profile and priority, after ${SETTLE_MS / 1000} s of settling; A -> B a ${TONE_HZ} Hz tone at ${TONE_DB} dBFS, B -> A looping espeak-ng speech.`,
  );
  log(
    `  gaps = 10 ms frames of the tone at B's speaker below ${SILENT_DB} dBFS + frames B concealed for A (its [health] counter over the window); ` +
      `underruns = speaker underruns of A and B, from their [audio] log lines.`,
  );
  log(
    `  latency = B -> A, mouth to ear: B's microphone and A's speaker are the two channels of one stereo null sink (the latency rig), ` +
      `recorded as one stream on one clock; the speech is cross-correlated with what A plays in 1 s windows louder than -35 dBFS ` +
      `(8 kHz search over 0-500 ms, refined at 48 kHz; windows correlating under 0.5 are dropped); the median of the windows' lags.`,
  );
  const speech = loopedSpeech(minutes * 60 + 60);
  const results: Record<Priority, Partial<Record<Profile, Measured>>> = { normal: {}, raised: {} };
  for (const priority of ['normal', 'raised'] as const) {
    for (const profile of profiles) {
      let m: Measured;
      try {
        m = await measureProfile(profile, priority, minutes, speech, log);
      } catch (e) {
        const error = (e as Error).message;
        log(`${profile} (${priority}): failed: ${error}`);
        // The summary keeps the cause; the log above has the station's last lines.
        m = { figures: { gaps: null, underruns: null, latency_ms: null }, detail: { ...emptyDetail(), error: error.split('\n').slice(0, 3).join(' | ') } };
      }
      results[priority][profile] = m;
      const idle = results[priority].idle?.figures.latency_ms ?? null;
      log(`${profile} (${priority}): ${describe(m, idle)}`);
    }
  }

  const figures = (p: Priority) => Object.fromEntries(profiles.map((n) => [n, results[p][n]?.figures])) as Record<Profile, ProfileFigures>;
  const ratios = (p: Priority) => Object.fromEntries(profiles.map((n) => [n, ratio(results[p][n]?.figures.latency_ms ?? null, results[p].idle?.figures.latency_ms ?? null)]));
  const gapsMet = (p: Priority) => profiles.every((n) => results[p][n]?.figures.gaps === 0);
  const latencyMet = (p: Priority) => {
    const idle = results[p].idle?.figures.latency_ms ?? null;
    return idle !== null && profiles.every((n) => {
      const l = results[p][n]?.figures.latency_ms ?? null;
      return l !== null && Math.abs(l - idle) <= LATENCY_TARGET_MS;
    });
  };

  log('');
  log('profile      | normal priority                                  | raised priority');
  for (const n of profiles) {
    const cell = (p: Priority) => {
      const m = results[p][n];
      if (!m || m.detail.error) return 'failed'.padEnd(48);
      const f = m.figures;
      const r = ratio(f.latency_ms, results[p].idle?.figures.latency_ms ?? null);
      return `gaps ${f.gaps}, underruns ${f.underruns}, ${fmt(f.latency_ms)} ms (${r === null ? '-' : r.toFixed(2)} x idle)`.padEnd(48);
    };
    log(`${n.padEnd(12)} | ${cell('normal')} | ${cell('raised')}`);
  }
  for (const p of ['normal', 'raised'] as const) {
    log(
      `targets at ${p} priority (not asserted): gaps 0 in every profile: ${gapsMet(p) ? 'met' : 'NOT met'}; ` +
        `latency within ${LATENCY_TARGET_MS} ms of idle's: ${latencyMet(p) ? 'met' : 'NOT met'}`,
    );
  }

  return {
    bench: 'glitches',
    minutes,
    profiles: figures('normal'),
    raised: figures('raised'),
    latency_vs_idle: { normal: ratios('normal'), raised: ratios('raised') },
    targets: {
      gaps_zero: { normal: gapsMet('normal'), raised: gapsMet('raised') },
      latency_within_10ms_of_idle: { normal: latencyMet('normal'), raised: latencyMet('raised') },
    },
    detail: {
      normal: Object.fromEntries(profiles.map((n) => [n, results.normal[n]?.detail])),
      raised: Object.fromEntries(profiles.map((n) => [n, results.raised[n]?.detail])),
    },
  };
}

async function measureProfile(profile: Profile, priority: Priority, minutes: number, speech: Int16Array, log: (line: string) => void): Promise<Measured> {
  const pulse = await startRig(['a', 'b']);
  const stations: StationProcess[] = [];
  const injections: { stop: () => void }[] = [];
  let spinner: ChildProcess | undefined;
  try {
    // The recorders attach first: a recorder attaching to a sink retunes its latency, which can cost the stream
    // playing into it a few ms at that moment.
    const atB = pulse.record(pulse.devices('b').speakerMonitor);
    const rig = pulse.record('rig.monitor', 2);
    const micA = pulse.record(`${pulse.devices('a').micSink}.monitor`);
    await sleep(300);
    injections.push(pulse.inject(pulse.devices('a').micSink, tone(TONE_HZ, speech.length / RATE, TONE_DB)));
    injections.push(pulse.inject('rig', speech, 'front-left'));
    if (profile === 'busy_core') spinner = spin();

    const common = ['--line', 'main', '--talk', 'main', '--priority', priority, '--meters-every', '1000', ...PROFILE_ARGS[profile]];
    const a = new StationProcess(['--name', 'A', '--host', '--port', '0', '--insecure', '--input', pulse.devices('a').serverInputId, '--output', RIG_FAR_ID, ...common], pulse.env);
    stations.push(a);
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(['--name', 'B', '--server', url, '--insecure', '--input', RIG_MIC_ID, '--output', pulse.devices('b').serverOutputId, ...common], pulse.env);
    stations.push(b);
    await b.waitFor(/\[peer A\] first RTP/, 20000);
    await a.waitFor(/\[peer B\] first RTP/, 20000);
    if (priority === 'raised') {
      for (const s of stations) {
        const warning = s.lines.find((l) => /could not raise the audio priority/.test(l));
        if (warning) log(`  note: station ${s.label} runs at normal priority after all: ${warning.replace(/^\S+ /, '')}`);
      }
    }
    await sleep(SETTLE_MS);
    const start = Date.now();
    await sleep(minutes * 60_000);
    const end = Date.now();
    const [speaker, stereo, mic] = await Promise.all([atB.stop(), rig.stop(), micA.stop()]);
    // The recordings end where they were stopped (they catch up with the time they ran): the window is their tail.
    const stoppedAt = Date.now();
    const windowSamples = Math.round(((end - start) / 1000) * RATE);
    // Each station's next health line closes the window of its counters.
    await Promise.all([nextHealth(b, 'A', end), nextHealth(a, 'B', end)]);

    const from = Math.max(0, speaker.length - windowSamples);
    const silent = silentFrames(speaker, SILENT_DB, from, speaker.length);
    const feedGaps = silentFrames(mic, SILENT_DB, Math.max(0, mic.length - windowSamples), mic.length).length;
    const countersB = counters(b, 'A', start, end);
    const countersA = counters(a, 'B', start, end);
    const [ref, far] = deinterleave(stereo);
    const lags = windowLags(ref, far, Math.max(0, ref.length - windowSamples), ref.length).map((w) => w.lagMs);
    const latency = lags.length ? round(median(lags)) : null;
    const detail: ProfileDetail = {
      silent_frames: silent.length,
      concealed_frames: countersB.concealed,
      underruns_a: countersA.underruns,
      underruns_b: countersB.underruns,
      overruns: countersA.overruns + countersB.overruns,
      feed_gaps: feedGaps,
      latency_windows: lags.length,
      latency_p10_ms: round(percentile(lags, 10)),
      latency_p90_ms: round(percentile(lags, 90)),
      playout_switches_a: a.lines.filter((l) => inWindow(l, start, end) && /\[playout\] B:/.test(l)).length,
      measured_s: round((end - start) / 1000),
    };
    const gapTimes = silent.map((s) => stoppedAt - ((speaker.length - s) / RATE) * 1000);
    for (const line of timeline(gapTimes, countersB.concealedAt, [a, b], start, end)) log(`  ${line}`);
    return {
      figures: { gaps: silent.length + countersB.concealed, underruns: countersA.underruns + countersB.underruns, latency_ms: latency },
      detail,
    };
  } finally {
    await Promise.all(stations.map((s) => s.stop()));
    for (const i of injections) i.stop();
    spinner?.kill('SIGKILL');
    await pulse.stop();
  }
}

/** A process spinning on one core at normal priority, as a build or a browser tab would. */
function spin(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  try {
    if (child.pid !== undefined) setPriority(child.pid, 0);
  } catch {
    // Already at normal priority, or not ours to change: either way it competes as a user's program would.
  }
  return child;
}

/** A station log line's wall-clock time (its stamp is UTC time of day), near `near`. */
function lineTime(line: string, near = Date.now()): number | undefined {
  const m = /^(\d\d):(\d\d):(\d\d)\.(\d{3}) /.exec(line);
  if (!m) return undefined;
  const d = new Date(near);
  d.setUTCHours(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
  const t = d.getTime();
  const day = 86_400_000;
  return t - near > day / 2 ? t - day : near - t > day / 2 ? t + day : t;
}

function inWindow(line: string, start: number, end: number): boolean {
  const t = lineTime(line);
  return t !== undefined && t >= start && t <= end;
}

const HEALTH = (peer: string) => new RegExp(`\\[health\\] ${peer} \\S+ .* concealed (\\d+)`);

async function nextHealth(s: StationProcess, peer: string, after: number): Promise<void> {
  const re = HEALTH(peer);
  for (const until = Date.now() + 3000; Date.now() < until; await sleep(100)) {
    if (s.lines.some((l) => re.test(l) && (lineTime(l) ?? 0) >= after)) return;
  }
}

/**
 * A station's counters over [start, end], bracketed by its health lines (one a second): the concealed frames it
 * reported for `peer` (a counter since the peer connected; a reconnect restarts it), and the underruns and overruns
 * it logged in between.
 */
function counters(s: StationProcess, peer: string, start: number, end: number): { concealed: number; concealedAt: number[]; underruns: number; overruns: number } {
  const re = HEALTH(peer);
  const health = s.lines.flatMap((l) => {
    const m = re.exec(l);
    const t = lineTime(l);
    return m && t !== undefined ? [{ t, concealed: Number(m[1]) }] : [];
  });
  const before = health.filter((h) => h.t <= start).at(-1);
  const after = health.find((h) => h.t >= end);
  const from = before?.t ?? start;
  const to = after?.t ?? end;
  let concealed = 0;
  const concealedAt: number[] = [];
  let previous = before?.concealed ?? 0;
  for (const h of health.filter((x) => x.t > from && x.t <= to)) {
    const added = h.concealed >= previous ? h.concealed - previous : h.concealed;
    if (added > 0) for (let i = 0; i < added; i++) concealedAt.push(h.t);
    concealed += added;
    previous = h.concealed;
  }
  let underruns = 0;
  let overruns = 0;
  for (const l of s.lines) {
    const t = lineTime(l);
    if (t === undefined || t <= from || t > to) continue;
    underruns += Number(/\[audio\] speaker underran (\d+) time/.exec(l)?.[1] ?? 0);
    overruns += Number(/\[audio\] microphone overran (\d+) time/.exec(l)?.[1] ?? 0);
  }
  return { concealed, concealedAt, underruns, overruns };
}

/**
 * What happened in the window, in time order: the holes heard at B (silent frames, runs of them as one), the
 * frames B concealed (by the health line that reported them), and what the stations logged about their audio,
 * playout and peers. Quiet windows print nothing.
 */
function timeline(silentAt: number[], concealedAt: number[], stations: StationProcess[], start: number, end: number, max = 24): string[] {
  const events: { t: number; text: string }[] = [];
  for (const run of runs(silentAt, 20)) events.push({ t: run[0] as number, text: `B heard ${run.length} silent frame(s)` });
  for (const run of runs(concealedAt, 0)) events.push({ t: run[0] as number, text: `B reported ${run.length} more concealed frame(s) for A` });
  if (!events.length) return [];
  for (const s of stations) {
    for (const l of s.lines) {
      const t = lineTime(l);
      if (t === undefined || t < start - 1000 || t > end + 1000 || !/\[(audio|playout|peer|send|state|station|trace)\]/.test(l)) continue;
      events.push({ t, text: `${s.label}: ${l.replace(/^\S+ /, '')}` });
    }
  }
  events.sort((x, y) => x.t - y.t);
  const shown = events.slice(0, max).map((e) => `${new Date(e.t).toISOString().slice(11, 23)} ${e.text}`);
  if (events.length > max) shown.push(`... ${events.length - max} more`);
  return shown;
}

/** Times grouped where each follows the previous within `gapMs`. */
function runs(times: number[], gapMs: number): number[][] {
  const out: number[][] = [];
  for (const t of [...times].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && t - (last.at(-1) as number) <= gapMs) last.push(t);
    else out.push([t]);
  }
  return out;
}

function describe(m: Measured, idleLatency: number | null): string {
  if (m.detail.error) return 'no figures';
  const f = m.figures;
  const d = m.detail;
  const r = ratio(f.latency_ms, idleLatency);
  return (
    `gaps ${f.gaps} (silent frames at B ${d.silent_frames} + concealed by B ${d.concealed_frames}), ` +
    `underruns ${f.underruns} (A ${d.underruns_a}, B ${d.underruns_b}), overruns ${d.overruns}, ` +
    `latency B->A median ${fmt(f.latency_ms)} ms (p10 ${fmt(d.latency_p10_ms)}, p90 ${fmt(d.latency_p90_ms)}, ${d.latency_windows} windows; ${r === null ? '-' : r.toFixed(2)} x idle), ` +
    `A's playout switched ${d.playout_switches_a} time(s); mic feed gaps ${d.feed_gaps}; ${d.measured_s} s measured`
  );
}

function emptyDetail(): ProfileDetail {
  return {
    silent_frames: 0,
    concealed_frames: 0,
    underruns_a: 0,
    underruns_b: 0,
    overruns: 0,
    feed_gaps: 0,
    latency_windows: 0,
    latency_p10_ms: NaN,
    latency_p90_ms: NaN,
    playout_switches_a: 0,
    measured_s: 0,
  };
}

function ratio(x: number | null, anchor: number | null): number | null {
  return x === null || anchor === null || !anchor ? null : Math.round((x / anchor) * 100) / 100;
}

const round = (x: number) => Math.round(x * 10) / 10;
const fmt = (x: number | null) => (x === null || Number.isNaN(x) ? '-' : x.toFixed(1));
