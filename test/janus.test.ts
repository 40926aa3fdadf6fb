// Large lines on Janus: a line the signalling server puts on a real Janus (VideoRoom, audio only), carrying tones
// between two stations and a browser guest in every direction, with no mesh call among them. The guest runs on another
// machine of the LAN (a network namespace joined by a veth pair): Janus serves its WebSocket and gathers its ICE
// candidates on that link only, so the guest's signalling, its Janus session and its media all cross a real link. The
// stations stay on this machine and reach Janus at its address on the link.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess, stopStations } from '../testkit/station-process';
import { GuestBrowser, buildGuest } from '../testkit/chromium';
import { startJanus, type JanusProcess } from '../testkit/janus';
import { tone, tonePresenceDb } from '../testkit/signal';
import { receiverSummary, selectedPaths, waitForInbound } from '../testkit/guest-receiver';
import { SignallingServer, builtGuestDir } from '../electron/signalling/server';
import type { LineState } from '../electron/common/contract';
import { createLan, type Lan } from '../testkit/lan-link';

declare const document: any;

let pulse: PulseHarness;
let janus: JanusProcess;
let lan: Lan;
before(async () => {
  await buildGuest();
  pulse = await PulseHarness.start(['a', 'b', 'c']);
  lan = await createLan();
  janus = await startJanus(onLan());
});
after(async () => {
  await pulse?.stop();
  await janus?.stop();
  await lan?.close();
});

/** Janus on the link to the guests' machine: its WebSocket and its ICE candidates on this machine's end only. */
function onLan(): { host: string; iceInterface: string } {
  return { host: lan.hostAddress, iceInterface: lan.hostInterface };
}

function station(name: string, url: string, extra: string[] = []): StationProcess {
  const d = pulse.devices(name.toLowerCase());
  return new StationProcess(['--name', name, '--server', url, '--insecure', '--line', 'big:s3cret', '--input', d.serverInputId, '--output', d.serverOutputId, '--ui', ...extra], pulse.env);
}

const TONES = { A: 440, B: 1000, guest: 700 } as const;

/** What each station made of its feeds: Janus states, first RTP, playout and speaker warnings, the last health. */
function describeStations(t: TestContext, stations: StationProcess[]): void {
  for (const s of stations) {
    t.diagnostic(`${s.label}'s log: ${s.lines.filter((l) => /\[(janus|line|audio|playout|routing|peer|direct)[^\]]*\]/.test(l)).slice(-30).join(' | ')}`);
    // A line each: one line for the whole would be cut short in the failure summary.
    const health = s.events.filter((ev) => ev.event === 'health').at(-1)?.payload as { peers?: unknown[]; speaker?: unknown } | undefined;
    for (const p of health?.peers ?? []) t.diagnostic(`${s.label}'s last health of ${JSON.stringify(p)}`);
    t.diagnostic(`${s.label}'s last speaker health: ${JSON.stringify(health?.speaker)}`);
  }
}

test('a Janus-carried line: two stations and a browser guest each hear the other two, and no mesh call is made', async (t) => {
  const server = new SignallingServer({ port: 0, host: lan.hostAddress, lines: { big: 's3cret' }, staticDir: builtGuestDir(), janus: { url: janus.url, adminKey: janus.adminKey }, janusLines: ['big'] });
  const { url } = await server.start();
  const http = url.replace('ws://', 'http://');
  const stations: StationProcess[] = [];
  let g: GuestBrowser | undefined;
  const injections: { stop(): void }[] = [];
  try {
    const a = station('A', url, ['--talk', 'big']);
    const b = station('B', url, ['--talk', 'big']);
    stations.push(a, b);
    await a.waitFor(/\[line big\] carried by janus/);
    await b.waitFor(/\[line big\] carried by janus/);
    // The page comes over plain http on the link, no secure context off loopback: this one origin is treated as
    // secure, so the guest's microphone works.
    g = await GuestBrowser.launch({ pulse, station: 'c', netns: lan.ns, args: [`--unsafely-treat-insecure-origin-as-secure=http://${new URL(http).host}`] });
    await g.join(http, { name: 'Guest C', line: 'big', secret: 's3cret', processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    await g.tap('#talk'); // a tap latches
    await a.connectControl(); // health and meters events from here on
    await b.connectControl();
    await a.waitFor(/\[janus big\] first RTP from B/, 20_000);
    await b.waitFor(/\[janus big\] first RTP from A/, 20_000);
    await a.waitFor(/\[janus big\] first RTP from Guest-C/, 20_000);
    await b.waitFor(/\[janus big\] first RTP from Guest-C/, 20_000);
    await waitForInbound(g.page, 2, 20_000); // A's feed and B's, on the guest's one subscriber connection

    injections.push(pulse.inject(pulse.devices('a').micSink, tone(TONES.A, 12, -12)));
    injections.push(pulse.inject(pulse.devices('b').micSink, tone(TONES.B, 12, -12)));
    injections.push(pulse.inject(pulse.devices('c').micSink, tone(TONES.guest, 12, -12)));
    await sleep(2000);
    const recs = { A: pulse.record(pulse.devices('a').speakerMonitor), B: pulse.record(pulse.devices('b').speakerMonitor), guest: pulse.record(pulse.devices('c').speakerMonitor) };
    await sleep(4000);
    const heard = { A: await recs.A.stop(), B: await recs.B.stop(), guest: await recs.guest.stop() };
    const state = (await a.invoke('station.getState')) as { lines: LineState[] };

    for (const listener of ['A', 'B', 'guest'] as const) {
      const x = heard[listener];
      assert.ok(x.length > 48000 * 3, `${listener}'s recording ran`);
      for (const talker of ['A', 'B', 'guest'] as const) {
        const db = tonePresenceDb(x, TONES[talker], 4800, x.length);
        t.diagnostic(`${listener} hears ${talker}'s ${TONES[talker]} Hz at ${db.toFixed(1)} dB`);
        if (talker === listener) assert.ok(db < -45, `${listener} does not hear itself (${db.toFixed(1)} dB at ${TONES[talker]} Hz)`);
        // Two -12 dB tones mixed: each arrives near -12 dB.
        else assert.ok(db > -20 && db < -6, `${listener} hears ${talker} at ${db.toFixed(1)} dB (${TONES[talker]} Hz)`);
      }
    }
    const big = state.lines.find((l) => l.line === 'big');
    assert.deepEqual(big?.carrier, { kind: 'janus', janus: 'connected' });
    assert.deepEqual(new Set(big?.members?.map((m) => m.name)), new Set(['B', 'Guest C']));
    for (const s of stations) assert.ok(!s.lines.some((l) => /\[peer \S+\] connected/.test(l)), `${s.label} made no mesh call`);
    assert.equal(await g.page.evaluate(() => document.body.dataset.carrier), 'janus');
    // Health and meters name the members heard through Janus as for mesh peers (health comes twice a second).
    const healthNames = new Set(a.events.filter((e) => e.event === 'health').flatMap((e) => (e.payload as { peers: { stationId: string }[] }).peers.map((p) => p.stationId)));
    assert.ok(healthNames.has('B'), `A's health reports B (${[...healthNames].join(', ')})`);
    const metered = a.events.filter((e) => e.event === 'meters').flatMap((e) => Object.keys((e.payload as { peers: Record<string, unknown> }).peers));
    assert.ok(metered.includes('B'), `A meters B by its station id (${[...new Set(metered)].join(', ')})`);
    assert.deepEqual(g.errors, []);
    // The guest's media crossed the link: each of its connections to Janus (publisher, subscriber) carried it between
    // the guest's machine and this one's address on the link.
    const paths = await selectedPaths(g.page);
    t.diagnostic(`the guest's paths to Janus: ${JSON.stringify(paths)}`);
    assert.equal(paths.length, 2, "the guest's publisher and subscriber connections");
    for (const p of paths) {
      assert.deepEqual({ local: p.local.address, remote: p.remote.address }, { local: lan.peerAddress, remote: lan.hostAddress });
      assert.ok(p.bytes > 0, `the connection carried media over the link (${JSON.stringify(p)})`);
    }
  } catch (e) {
    describeStations(t, stations);
    if (g) t.diagnostic(`guest's receivers: ${await receiverSummary(g.page)}`);
    t.diagnostic(`janus log:\n${janus.log().slice(-3000)}`);
    throw e;
  } finally {
    for (const i of injections) i.stop();
    try {
      await g?.close();
      await stopStations(stations);
    } finally {
      await server.close();
    }
  }
});

test('Janus crashing mid-show: the line falls back to the mesh with the reason in the control API, and returns to Janus when it is back', async (t) => {
  let own = await startJanus(onLan());
  const server = new SignallingServer({ port: 0, lines: { big: 's3cret' }, janus: { url: own.url, adminKey: own.adminKey, retryMs: 500 }, janusLines: ['big'] });
  const { url } = await server.start();
  const stations: StationProcess[] = [];
  const injections: { stop(): void }[] = [];
  const hears440 = async (who: StationProcess, device: string) => {
    const rec = pulse.record(pulse.devices(device).speakerMonitor);
    await sleep(2500);
    const x = await rec.stop();
    return tonePresenceDb(x, TONES.A, 4800, x.length);
  };
  try {
    const a = station('A', url, ['--talk', 'big']);
    const b = station('B', url);
    stations.push(a, b);
    injections.push(pulse.inject(pulse.devices('a').micSink, tone(TONES.A, 40, -12)));
    await b.waitFor(/\[janus big\] first RTP from A/, 20_000);
    await sleep(1000);
    const onJanus = await hears440(b, 'b');
    t.diagnostic(`B hears A through Janus at ${onJanus.toFixed(1)} dB`);
    assert.ok(onJanus > -20, `B hears A through Janus (${onJanus.toFixed(1)} dB)`);

    await own.crash();
    await b.waitFor(/\[line big\] carried by mesh \(Janus unavailable: .*\)/);
    await b.waitFor(/\[peer A\] first RTP/, 20_000);
    await sleep(1000);
    const state = (await b.invoke('station.getState')) as { lines: LineState[] };
    const carrier = state.lines.find((l) => l.line === 'big')?.carrier;
    assert.equal(carrier?.kind, 'mesh');
    assert.match(carrier?.error ?? '', /^Janus unavailable: /, 'the control API says why the line is on the mesh');
    const onMesh = await hears440(b, 'b');
    t.diagnostic(`B hears A over the mesh at ${onMesh.toFixed(1)} dB`);
    assert.ok(onMesh > -20, `B hears A over the mesh after Janus went (${onMesh.toFixed(1)} dB)`);

    own = await startJanus({ ...onLan(), port: own.port, adminKey: own.adminKey });
    const back = () => b.lines.filter((l) => /\[janus big\] first RTP from A/.test(l)).length;
    for (let i = 0; i < 200 && back() < 2; i++) await sleep(100);
    assert.equal(back(), 2, 'B hears A through the new Janus room');
    await b.waitFor(/\[peer A\] closed/);
    await sleep(1000);
    const again = await hears440(b, 'b');
    t.diagnostic(`B hears A through Janus again at ${again.toFixed(1)} dB`);
    assert.ok(again > -20, `B hears A through Janus again (${again.toFixed(1)} dB)`);
    const after = (await b.invoke('station.getState')) as { lines: LineState[] };
    assert.deepEqual(after.lines.find((l) => l.line === 'big')?.carrier, { kind: 'janus', janus: 'connected' });
  } catch (e) {
    t.diagnostic(`janus log:\n${own.log().slice(-3000)}`);
    throw e;
  } finally {
    for (const i of injections) i.stop();
    try {
      await stopStations(stations);
    } finally {
      await server.close();
      await own.stop();
    }
  }
});

test('a station on a mesh line and a Janus line at once: each line travels its own way, each voice is heard once', async (t) => {
  const server = new SignallingServer({ port: 0, lines: { big: 's3cret' }, janus: { url: janus.url, adminKey: janus.adminKey }, janusLines: ['big'] });
  const { url } = await server.start();
  const stations: StationProcess[] = [];
  const injections: { stop(): void }[] = [];
  try {
    const a = station('A', url, ['--line', 'main', '--talk', 'main']);
    const b = station('B', url, ['--line', 'main', '--talk', 'big']);
    stations.push(a, b);
    await b.waitFor(/\[peer A\] first RTP/, 20_000);
    await a.waitFor(/\[janus big\] first RTP from B/, 20_000);
    injections.push(pulse.inject(pulse.devices('a').micSink, tone(TONES.A, 10, -12)));
    injections.push(pulse.inject(pulse.devices('b').micSink, tone(TONES.B, 10, -12)));
    await sleep(2000);
    const recs = { A: pulse.record(pulse.devices('a').speakerMonitor), B: pulse.record(pulse.devices('b').speakerMonitor) };
    await sleep(4000);
    const heard = { A: await recs.A.stop(), B: await recs.B.stop() };
    const bAtA = tonePresenceDb(heard.A, TONES.B, 4800, heard.A.length);
    const aAtB = tonePresenceDb(heard.B, TONES.A, 4800, heard.B.length);
    t.diagnostic(`A hears B (Janus line) at ${bAtA.toFixed(1)} dB; B hears A (mesh line) at ${aAtB.toFixed(1)} dB`);
    // Heard once: a voice arriving both ways would sum up to 6 dB louder.
    assert.ok(bAtA > -16 && bAtA < -8, `A hears B through Janus, once (${bAtA.toFixed(1)} dB)`);
    assert.ok(aAtB > -16 && aAtB < -8, `B hears A over the mesh, once (${aAtB.toFixed(1)} dB)`);
    const state = (await a.invoke('station.getState')) as { lines: LineState[] };
    assert.deepEqual(Object.fromEntries(state.lines.map((l) => [l.line, l.carrier?.kind])), { big: 'janus', main: 'mesh' });
  } finally {
    for (const i of injections) i.stop();
    try {
      await stopStations(stations);
    } finally {
      await server.close();
    }
  }
});

test('private talk between stations that share only a Janus line: a call made for it, heard once, by the target alone', async (t) => {
  const server = new SignallingServer({ port: 0, lines: { big: 's3cret' }, janus: { url: janus.url, adminKey: janus.adminKey }, janusLines: ['big'] });
  const { url } = await server.start();
  const stations: StationProcess[] = [];
  const injections: { stop(): void }[] = [];
  const listen = async (name: 'a' | 'b' | 'c', ms: number) => {
    const rec = pulse.record(pulse.devices(name).speakerMonitor);
    await sleep(ms);
    return rec.stop();
  };
  try {
    const [a, b, c] = (['A', 'B', 'C'] as const).map((n) => station(n, url));
    stations.push(a!, b!, c!);
    for (const s of stations) await s.waitFor(/\[janus big\] connected/, 20_000);
    await Promise.all(stations.map((s) => s.connectControl()));
    injections.push(pulse.inject(pulse.devices('a').micSink, tone(TONES.A, 40, -12)));
    injections.push(pulse.inject(pulse.devices('b').micSink, tone(TONES.B, 40, -12)));

    // B listens to no line; A talks to B alone. The line is on Janus, so there is no call to ride on: one is made.
    await b!.invoke('line.setListen', { line: 'big', on: false });
    const asked = performance.now();
    await a!.invoke('talk.direct', { stationId: 'B', on: true });
    await b!.waitFor(/\[peer A\] first RTP/, 20_000);
    t.diagnostic(`the call for private talk carried A's voice ${(performance.now() - asked).toFixed(0)} ms after A asked`);
    await sleep(1000);
    const [atB, atC] = await Promise.all([listen('b', 2000), listen('c', 2000)]);
    const heard = tonePresenceDb(atB, TONES.A, 4800, atB.length);
    assert.ok(heard > -16 && heard < -8, `B hears A's private talk (${heard.toFixed(1)} dB)`);
    const leaked = tonePresenceDb(atC, TONES.A, 4800, atC.length);
    assert.ok(leaked < -45, `C, on the same line, hears nothing of it (${leaked.toFixed(1)} dB)`);
    assert.ok(!c!.lines.some((l) => /\[peer \S+\] connected/.test(l)), 'C made no mesh call');

    // A talks on the line as well and B listens to it: A's voice reaches B on the call and through Janus, and is heard once.
    await b!.invoke('line.setListen', { line: 'big', on: true });
    await a!.invoke('line.setTalk', { line: 'big', on: true });
    await c!.waitFor(/\[janus big\] first RTP from A/, 20_000);
    await sleep(1500);
    const [once, atC2] = await Promise.all([listen('b', 2000), listen('c', 2000)]);
    const onceDb = tonePresenceDb(once, TONES.A, 4800, once.length);
    assert.ok(onceDb > -16 && onceDb < -8, `B hears A once, not on both paths (${onceDb.toFixed(1)} dB)`);
    const lineDb = tonePresenceDb(atC2, TONES.A, 4800, atC2.length);
    assert.ok(lineDb > -16 && lineDb < -8, `C hears A's line talk through Janus (${lineDb.toFixed(1)} dB)`);

    // A stops both and listens to no line; B's reply key reaches A on the same call.
    await a!.invoke('line.setTalk', { line: 'big', on: false });
    await a!.invoke('talk.direct', { stationId: 'B', on: false });
    await a!.invoke('line.setListen', { line: 'big', on: false });
    await b!.waitFor(/\[direct\] A stopped talking to us/);
    await b!.invoke('talk.reply', { on: true });
    await a!.waitFor(/\[direct\] B talks to us/);
    await sleep(1000);
    const [atA, atC3] = await Promise.all([listen('a', 2000), listen('c', 2000)]);
    const reply = tonePresenceDb(atA, TONES.B, 4800, atA.length);
    assert.ok(reply > -16 && reply < -8, `A hears B's reply (${reply.toFixed(1)} dB)`);
    assert.ok(tonePresenceDb(atC3, TONES.B, 4800, atC3.length) < -45, 'C hears nothing of the reply');
    assert.equal(a!.lines.filter((l) => /\[peer B\] connected/.test(l)).length, 1, 'the reply rode the call private talk made');
  } catch (e) {
    // B listens in the first two parts: its story is printed last, where a cut summary still shows it.
    describeStations(t, [stations[2], stations[0], stations[1]].filter((s) => s !== undefined));
    throw e;
  } finally {
    for (const i of injections) i.stop();
    try {
      await stopStations(stations);
    } finally {
      await server.close();
    }
  }
});
