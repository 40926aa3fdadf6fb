// Faults a show survives, across real network namespaces (testkit/netns.ts): stations A and B, each in a host of
// its own, the signalling server in a third, all joined by a switch. Each station talks a tone to the other; what
// each speaker played is recorded and judged frame by frame (testkit/fault-rig.ts).
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../testkit/pulse';
import { NetnsUnavailable } from '../testkit/netns';
import { RATE } from '../testkit/signal';
import {
  FRAME,
  TONES,
  callEvents,
  heardThroughout,
  speakerEvents,
  serverUrl,
  silentRuns,
  startRelay,
  startRig,
  startServer,
  startStations,
  stopRig,
  talkAndRecord,
  watchRejoins,
  type FaultRig,
} from '../testkit/fault-rig';
import { stopStations, type StationProcess } from '../testkit/station-process';

let rig: FaultRig | undefined;
let skip: string | undefined;

before(async () => {
  try {
    rig = await startRig();
  } catch (e) {
    if (!(e instanceof NetnsUnavailable)) throw e;
    skip = e.message;
  }
});
after(async () => {
  await stopRig(rig);
});

/** `toleranceHz`: the playout's time-stretching under jitter bends a tone for a while. */
function assertHeard(x: Int16Array, hz: number, from: number, to: number, who: string, toleranceHz = 2): void {
  const h = heardThroughout(x, hz, from, to);
  assert.ok(Math.abs(h.frequency - hz) <= toleranceHz, `${who}: ${h.frequency} Hz, not ${hz} Hz`);
  assert.deepEqual(h.quietSeconds, [], `${who} in every second (weakest second at ${h.minDb.toFixed(1)} dB)`);
}

/** Calls closed so far (before the stations are stopped, which closes them all). */
function closedCalls(stations: StationProcess[]): string[] {
  return stations.flatMap((s) => s.lines.filter((x) => /\[peer [AB]\] closed/.test(x)).map((x) => `${s.label}: ${x}`));
}

test('signalling server killed and restarted on the same port: not one silent frame while it is down or after, every station back within 3 s', async (t) => {
  if (skip || !rig) return t.skip(skip);
  const r = rig;
  let { server } = await startServer(r);
  const stations = await startStations(r, serverUrl(r));
  const call = talkAndRecord(r, 30);
  try {
    await sleep(1500);
    const rejoins = watchRejoins(stations);
    await server.stop('SIGKILL');
    const killedAt = Date.now();
    await sleep(4000);
    const back = await startServer(r);
    server = back.server;
    const rejoinMs = await rejoins.after(back.listeningAt);
    const observeMs = 10000;
    await sleep(observeMs);
    const { atB, atA } = await call.stop();
    t.diagnostic(`server down ${back.listeningAt - killedAt} ms; rejoined ${rejoinMs.map((m) => `${m} ms`).join(', ')} after it listened again`);
    for (const s of stations) t.diagnostic(`${s.label}: ${callEvents(s).slice(-8).join(' | ')}`);
    assert.ok(rejoinMs.every((m) => m <= 3000), `every station rejoined within 3 s of the server's return (${rejoinMs.join(', ')} ms)`);
    assert.deepEqual(closedCalls(stations), [], 'the rejoins tore down no call');
    for (const [x, hz, who] of [[atB, TONES.A, 'B hears A'], [atA, TONES.B, 'A hears B']] as const) {
      const from = RATE / 2;
      const to = x.length - RATE / 5;
      assert.ok(to - from >= RATE * 14, `${who}: the recording spans the outage and ${observeMs / 1000} s after the return`);
      assertHeard(x, hz, from, to, who);
      const listener = stations[who.startsWith('B') ? 1 : 0] as StationProcess;
      assert.deepEqual(silentRuns(x, from, to), [], `${who}: no silent frame while the server was down, nor in the ${observeMs / 1000} s after it returned (${listener.label}: ${speakerEvents(listener).slice(-6).join(' | ')})`);
    }
  } finally {
    call.abort();
    await stopStations(stations);
    await server.stop();
  }
});

/**
 * B's link cut at the switch for `cutMs` while A and B talk. `sameCall`: the call itself comes through (a cut shorter
 * than ICE consent's 30 s); otherwise it is set up anew, and must carry audio both ways all the same.
 */
async function linkDown(t: TestContext, cutMs: number, sameCall: boolean): Promise<void> {
  if (skip || !rig) return t.skip(skip);
  const r = rig;
  const { server } = await startServer(r);
  const stations = await startStations(r, serverUrl(r));
  const call = talkAndRecord(r, cutMs / 1000 + 20);
  try {
    await sleep(1500);
    await r.lab.cut('b');
    const cutAt = Date.now();
    await sleep(cutMs);
    await r.lab.restore('b');
    const restoredAt = Date.now();
    await sleep(6000);
    const { atB, atA } = await call.stop();
    for (const s of stations) t.diagnostic(`${s.label}: ${callEvents(s).slice(-8).join(' | ')}`);
    if (sameCall) assert.deepEqual(closedCalls(stations), [], 'the call itself came through the cut: nothing was set up anew');
    else assert.ok(closedCalls(stations).length > 0, 'ICE consent expired in the cut: the call was set up anew');
    for (const [x, hz, who] of [[atB, TONES.A, 'B hears A'], [atA, TONES.B, 'A hears B']] as const) {
      const from = RATE / 2;
      const to = x.length - RATE / 5;
      const runs = silentRuns(x, from, to);
      // The cut shows in the recording as its longest silent run; that run's length less the cut's is how long the
      // audio took to come back after the link did (the recording's own start latency cancels out).
      const longest = runs.reduce((a, run) => (run[1] > a[1] ? run : a), [0, 0] as [number, number]);
      const cutMs = restoredAt - cutAt;
      const resumeMs = longest[1] * 10 - cutMs;
      const end = longest[0] + longest[1] * FRAME;
      t.diagnostic(`${who}: silent runs (ms) ${runs.map((run) => `${run[1] * 10} at ${Math.round(((run[0] - end) / RATE) * 1000)} ms`).join(', ')} from the end of the cut; audio back ${resumeMs} ms after the link`);
      assert.ok(longest[1] * 10 >= cutMs - 500, `${who}: the cut is in the recording (${longest[1] * 10} ms silent)`);
      assert.ok(resumeMs <= 2000, `${who}: audio came back within 2 s of the link's return (${resumeMs} ms)`);
      // Resumed: from 2 s after the link's return on, not one silent frame (what happens before is the resume itself).
      const settled = end - resumeMs * (RATE / 1000) + 2 * RATE;
      const listener = stations[who.startsWith('B') ? 1 : 0] as StationProcess;
      assert.deepEqual(silentRuns(x, settled, to), [], `${who}: not one silent frame from 2 s after the link's return (${listener.label}: ${speakerEvents(listener).slice(-6).join(' | ')})`);
      assertHeard(x, hz, settled, to, `${who} after the cut`);
    }
  } finally {
    call.abort();
    await r.lab.restore('b');
    await stopStations(stations);
    await server.stop();
  }
}

test("a station's link down for 10 s: its audio resumes within 2 s of the link's return, nothing restarted", (t) => linkDown(t, 10_000, true));

test("a station's link down for 30 s: the call is set up anew and the audio resumes within 2 s of the link's return", (t) => linkDown(t, 30_000, false));

test('3 % loss with 30 ms jitter both ways for 25 s through a relay: the call never drops', async (t) => {
  if (skip || !rig) return t.skip(skip);
  const r = rig;
  const { server } = await startServer(r);
  const relay = await startRelay(r);
  const stations = await startStations(r, relay.url);
  const call = talkAndRecord(r, 35);
  try {
    const impairment = { loss: 0.03, jitterMs: 30 };
    relay.command({ op: 'impair', key: 'A->B', impairment });
    relay.command({ op: 'impair', key: 'B->A', impairment });
    const linesBefore = stations.map((s) => s.lines.length);
    await sleep(25000);
    relay.command({ op: 'stats', key: 'A->B' });
    const stats = (await relay.waitFor(/"stats"/)).match.input as string;
    const { atB, atA } = await call.stop();
    t.diagnostic(`relay A->B: ${stats}`);
    const drops = stations.flatMap((s, i) => s.lines.slice(linesBefore[i]).filter((x) => /\[peer [AB]\] (closed|failed|no-rtp|silent:|failed:)/.test(x)));
    assert.deepEqual(drops, [], 'no call closed, failed or went silent');
    for (const [x, hz, who] of [[atB, TONES.A, 'B hears A'], [atA, TONES.B, 'A hears B']] as const) {
      const from = RATE;
      const to = x.length - RATE / 5;
      const runs = silentRuns(x, from, to);
      t.diagnostic(`${who}: ${runs.length} silent run(s), longest ${Math.max(0, ...runs.map((run) => run[1])) * 10} ms`);
      // Heard in every second of the impaired stretch: the call carried on, whatever loss concealment cost.
      assertHeard(x, hz, from, to, who, 5);
    }
  } finally {
    call.abort();
    await stopStations(stations);
    await relay.stop();
    await server.stop();
  }
});
