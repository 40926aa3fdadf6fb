// Faults a show survives, across real network namespaces (test/support/netns.ts): two stations, each in a host of
// its own, the signalling server in a third, all joined by a switch. Each station talks a tone to the other; what
// each speaker played is recorded and judged frame by frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { PulseHarness, sleep } from './support/pulse';
import { StationProcess } from './support/station-process';
import { NetLab, NetnsUnavailable } from './support/netns';
import { tone, dominantFrequency, silentFrames, tonePresenceDb, RATE } from './support/signal';

const ROOT = join(__dirname, '..');
const PORT = 7000;
const FRAME = RATE / 100;

let lab: NetLab | undefined;
let skip: string | undefined;
let pulse: PulseHarness;

before(async () => {
  try {
    lab = await NetLab.create(['a', 'b', 's']);
  } catch (e) {
    if (!(e instanceof NetnsUnavailable)) throw e;
    skip = e.message;
    return;
  }
  pulse = await PulseHarness.start(['a', 'b']);
});
after(async () => {
  await pulse?.stop();
  await lab?.close();
});

/** A process in a lab host whose output lines are kept, with the time each arrived. */
class Service {
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

function startServer(l: NetLab): Service {
  const child = l.spawnIn('s', process.execPath, ['--import', 'tsx', 'electron/cli/signal.ts', '--port', String(PORT), '--bind', l.host('s').address], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Service(child);
}

function startRelay(l: NetLab, upstream: string): Service & { command: (cmd: unknown) => void } {
  const child = l.spawnIn('mid', process.execPath, ['--import', 'tsx', 'test/support/relay-process.ts', l.mid.address, upstream, '20261206'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return Object.assign(new Service(child), { command: (cmd: unknown) => child.stdin?.write(`${JSON.stringify(cmd)}\n`) });
}

/** Stations A and B on line `main`, both talking, in hosts a and b; resolves once each hears the other. */
async function startStations(l: NetLab, url: string): Promise<StationProcess[]> {
  const started = Date.now();
  const dev = (s: string) => ['--input', pulse.devices(s).serverInputId, '--output', pulse.devices(s).serverOutputId];
  const stations = ['a', 'b'].map(
    (h) => new StationProcess(['--name', h.toUpperCase(), '--server', url, '--line', 'main', '--talk', 'main', ...dev(h)], pulse.env, h.toUpperCase(), l.host(h).ns),
  );
  await Promise.all([stations[0]?.waitFor(/\[peer B\] first RTP/, 20000), stations[1]?.waitFor(/\[peer A\] first RTP/, 20000)]);
  process.stderr.write(`stations up in ${Date.now() - started} ms\n`);
  return stations;
}

/** Each station's microphone gets its own tone; each speaker is recorded. */
function talkAndRecord(seconds: number) {
  const talks = [pulse.inject(pulse.devices('a').micSink, tone(440, seconds, -12)), pulse.inject(pulse.devices('b').micSink, tone(660, seconds, -12))];
  const recs = { atB: pulse.record(pulse.devices('b').speakerMonitor), atA: pulse.record(pulse.devices('a').speakerMonitor) };
  return {
    recs,
    stop: () => talks.forEach((t) => t.stop()),
  };
}

/**
 * Whether `hz` is what plays in [from, to): the dominant frequency of its first 2 s, and the tone's level in each
 * second after (a scan of the whole span would take longer than the call).
 */
function heardThroughout(x: Int16Array, hz: number, from: number, to: number): { frequency: number; quietSeconds: number[]; minDb: number } {
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

function assertHeard(x: Int16Array, hz: number, from: number, to: number, who: string): void {
  const h = heardThroughout(x, hz, from, to);
  assert.ok(Math.abs(h.frequency - hz) <= 2, `${who}: ${h.frequency} Hz, not ${hz} Hz`);
  assert.deepEqual(h.quietSeconds, [], `${who} in every second (weakest second at ${h.minDb.toFixed(1)} dB)`);
}

/** Runs of consecutive silent frames in [from, to): [start sample, length in frames]. */
function silentRuns(x: Int16Array, from: number, to: number): [number, number][] {
  const runs: [number, number][] = [];
  for (const s of silentFrames(x, -40, from, to)) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] * FRAME === s) last[1]++;
    else runs.push([s, 1]);
  }
  return runs;
}

const peerEvents = (s: StationProcess) => s.lines.filter((l) => /\[peer [AB]\] (closed|failed|no-rtp|connected)|\[signal\] joined|its call stays up|back in presence/.test(l));

test('signalling server killed and restarted on the same port: not one silent frame while it is down or after, every station back within 3 s', async (t) => {
  if (skip || !lab) return t.skip(skip);
  const l = lab;
  let server = startServer(l);
  await server.waitFor(/signalling on/);
  const stations = await startStations(l, `ws://${l.host('s').address}:${PORT}`);
  const call = talkAndRecord(30);
  try {
    await sleep(1500);
    await server.stop('SIGKILL');
    const killedAt = Date.now();
    await sleep(4000);
    server = startServer(l);
    const back = (await server.waitFor(/signalling on/)).at;
    const joinedBefore = stations.map((s) => s.lines.filter((x) => /\[signal\] joined/.test(x)).length);
    // Each station's first join after the return: polled, so measured up to 20 ms late.
    const rejoinMs = await Promise.all(
      stations.map(async (s, i) => {
        for (;;) {
          if (s.lines.filter((x) => /\[signal\] joined/.test(x)).length > (joinedBefore[i] as number)) return Date.now() - back;
          if (Date.now() - back > 10000) return Infinity;
          await sleep(20);
        }
      }),
    );
    const observeMs = 10000;
    await sleep(observeMs);
    const [atB, atA] = await Promise.all([call.recs.atB.stop(), call.recs.atA.stop()]);
    t.diagnostic(`server down ${back - killedAt} ms; rejoined ${rejoinMs.map((m) => `${m} ms`).join(', ')} after it listened again`);
    for (const s of stations) t.diagnostic(`${s.label}: ${peerEvents(s).slice(-8).join(' | ')}`);
    assert.ok(rejoinMs.every((m) => m <= 3000), `every station rejoined within 3 s of the server's return (${rejoinMs.join(', ')} ms)`);
    for (const [x, hz, who] of [[atB, 440, 'B hears A'], [atA, 660, 'A hears B']] as const) {
      const from = RATE / 2;
      const to = x.length - RATE / 5;
      assert.ok(to - from >= RATE * 14, `${who}: the recording spans the outage and ${observeMs / 1000} s after the return`);
      assertHeard(x, hz, from, to, who);
      assert.deepEqual(silentRuns(x, from, to), [], `${who}: no silent frame while the server was down, nor in the ${observeMs / 1000} s after it returned`);
    }
  } finally {
    call.stop();
    for (const s of stations) assert.equal(await s.stop(), '0', `${s.label} exits cleanly (last lines: ${s.tail()})`);
    await server.stop();
  }
});

test("a station's link down for 10 s: its audio resumes within 2 s of the link's return, nothing restarted", async (t) => {
  if (skip || !lab) return t.skip(skip);
  const l = lab;
  const server = startServer(l);
  await server.waitFor(/signalling on/);
  const stations = await startStations(l, `ws://${l.host('s').address}:${PORT}`);
  const call = talkAndRecord(30);
  try {
    await sleep(1500);
    await l.cut('b');
    const cutAt = Date.now();
    await sleep(10000);
    await l.restore('b');
    const restoredAt = Date.now();
    await sleep(6000);
    const [atB, atA] = await Promise.all([call.recs.atB.stop(), call.recs.atA.stop()]);
    for (const s of stations) t.diagnostic(`${s.label}: ${peerEvents(s).slice(-8).join(' | ')}`);
    for (const [x, hz, who] of [[atB, 440, 'B hears A'], [atA, 660, 'A hears B']] as const) {
      const from = RATE / 2;
      const to = x.length - RATE / 5;
      const runs = silentRuns(x, from, to);
      // The cut shows in the recording as one silent run; its length, less the cut's, is how long the audio took to
      // come back after the link did (the recording's own start latency cancels out).
      const longest = runs.reduce((a, r) => (r[1] > a[1] ? r : a), [0, 0] as [number, number]);
      const cutMs = restoredAt - cutAt;
      const resumeMs = longest[1] * 10 - cutMs;
      const end = longest[0] + longest[1] * FRAME;
      t.diagnostic(`${who}: silent runs (ms) ${runs.map((r) => `${r[1] * 10} at ${Math.round(((r[0] - end) / RATE) * 1000)} ms`).join(', ')} from the end of the cut; audio back ${resumeMs} ms after the link`);
      assert.ok(longest[1] * 10 >= cutMs - 500, `${who}: the cut is in the recording (${longest[1] * 10} ms silent)`);
      assert.ok(resumeMs <= 2000, `${who}: audio came back within 2 s of the link's return (${resumeMs} ms)`);
      // Resumed: from 2 s after the link's return on, not one silent frame (what happens before is the resume itself).
      const settled = end - resumeMs * (RATE / 1000) + 2 * RATE;
      assert.deepEqual(silentRuns(x, settled, to), [], `${who}: not one silent frame from 2 s after the link's return`);
      assertHeard(x, hz, settled, to, `${who} after the cut`);
    }
  } finally {
    call.stop();
    await l.restore('b');
    for (const s of stations) assert.equal(await s.stop(), '0', `${s.label} exits cleanly (last lines: ${s.tail()})`);
    await server.stop();
  }
});

test('3 % loss with 30 ms jitter both ways for 25 s through a relay: the call never drops', async (t) => {
  if (skip || !lab) return t.skip(skip);
  const l = lab;
  const t0 = Date.now();
  const server = startServer(l);
  await server.waitFor(/signalling on/);
  t.diagnostic(`server ${Date.now() - t0}`);
  const relay = startRelay(l, `ws://${l.host('s').address}:${PORT}`);
  const proxyUrl = (await relay.waitFor(/proxy (ws:\/\/\S+)/)).match[1] as string;
  t.diagnostic(`relay ${Date.now() - t0}`);
  const stations = await startStations(l, proxyUrl);
  t.diagnostic(`stations ${Date.now() - t0}`);
  const call = talkAndRecord(35);
  try {
    const impairment = { loss: 0.03, jitterMs: 30 };
    relay.command({ op: 'impair', key: 'A->B', impairment });
    relay.command({ op: 'impair', key: 'B->A', impairment });
    const linesBefore = stations.map((s) => s.lines.length);
    await sleep(25000);
    relay.command({ op: 'stats', key: 'A->B' });
    const stats = (await relay.waitFor(/"stats"/)).match.input as string;
    t.diagnostic(`stats ${Date.now() - t0}`);
    const [atB, atA] = await Promise.all([call.recs.atB.stop(), call.recs.atA.stop()]);
    t.diagnostic(`recorded ${Date.now() - t0}`);
    t.diagnostic(`relay A->B: ${stats}`);
    const drops = stations.flatMap((s, i) => s.lines.slice(linesBefore[i]).filter((x) => /\[peer [AB]\] (closed|failed|no-rtp)|\[peer [AB]\] (failed|silent):/.test(x)));
    assert.deepEqual(drops, [], 'no call closed, failed or went silent');
    for (const [x, hz, who] of [[atB, 440, 'B hears A'], [atA, 660, 'A hears B']] as const) {
      const from = RATE;
      const to = x.length - RATE / 5;
      const runs = silentRuns(x, from, to);
      t.diagnostic(`${who}: ${runs.length} silent run(s), longest ${Math.max(0, ...runs.map((r) => r[1])) * 10} ms`);
      // Heard in every second of the impaired stretch: the call carried on, whatever loss concealment cost.
      assertHeard(x, hz, from, to, who);
    }
  } finally {
    call.stop();
    for (const s of stations) assert.equal(await s.stop(), '0', `${s.label} exits cleanly (last lines: ${s.tail()})`);
    t.diagnostic(`stations stopped ${Date.now() - t0}`);
    await relay.stop();
    await server.stop();
    t.diagnostic(`all stopped ${Date.now() - t0}`);
  }
});
