// A real Chromium as a browser guest against a real headless station: audio both ways, negotiation from either side,
// leaving and vanishing, and the no-RTP health state. Each browser has its own PulseAudio microphone and speaker, and
// runs on another machine of the LAN (a network namespace joined by a veth pair), so its media crosses a real link.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess, stopStations } from '../testkit/station-process';
import { GuestBrowser, buildGuest, holdNextPress } from '../testkit/chromium';
import { tone, dominantFrequency, toneDb } from '../testkit/signal';
import { receiverSummary } from '../testkit/guest-receiver';
import { SignallingServer, builtGuestDir } from '../electron/signalling/server';
import type { PeerHealth } from '../electron/common/contract';
import { createLan, type Lan } from '../testkit/lan-link';

// Browser globals for the page.evaluate callbacks: this file compiles without the DOM lib, and adding it project-wide
// would hide accidental DOM use in Node code.
declare const window: any;
declare const document: any;
declare const navigator: any;
declare const MediaStream: any;
type RTCPeerConnection = any;
type MediaStreamTrack = any;

let pulse: PulseHarness;
let lan: Lan;
before(async () => {
  await buildGuest();
  pulse = await PulseHarness.start(['a', 'b', 'c']);
  lan = await createLan();
});
after(async () => {
  await pulse?.stop();
  await lan?.close();
});

/**
 * A guest on the other machine. The page comes over plain http there, which is no secure context off loopback: the
 * browser is told to treat this one origin as secure, so its microphone works (browser-tls.test.ts covers https).
 */
function guestOnLan(station: string, http: string): Promise<GuestBrowser> {
  return GuestBrowser.launch({ pulse, station, netns: lan.ns, args: [`--unsafely-treat-insecure-origin-as-secure=http://${http}`] });
}

function station(name: string, server: string[], extra: string[] = []): StationProcess {
  const d = pulse.devices(name.toLowerCase());
  return new StationProcess(['--name', name, ...server, '--line', 'main:s3cret', '--input', d.inputId, '--output', d.outputId, '--ui', ...extra], pulse.env);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Outbound and inbound RTP packet rates of the guest's peer connections, over about `ms`. The interval is the one
 * between the stats' own time stamps: a page busy as either reading is taken would otherwise stretch or shrink it.
 */
async function packetRates(g: GuestBrowser, ms: number): Promise<{ sentPerS: number; receivedPerS: number; detail: string }> {
  const counts = () =>
    g.page.evaluate(async () => {
      const pcs = (window as unknown as { partylinePeers?: () => RTCPeerConnection[] }).partylinePeers?.() ?? [];
      const out = { sent: 0, received: 0, sentAt: NaN, receivedAt: NaN };
      for (const pc of pcs) {
        for (const s of (await pc.getStats()).values()) {
          if (s.type === 'outbound-rtp') {
            out.sent += s.packetsSent as number;
            out.sentAt = s.timestamp as number;
          }
          if (s.type === 'inbound-rtp') {
            out.received += s.packetsReceived as number;
            out.receivedAt = s.timestamp as number;
          }
        }
      }
      return out;
    });
  const a = await counts();
  await sleep(ms);
  const b = await counts();
  const sentMs = b.sentAt - a.sentAt;
  const receivedMs = b.receivedAt - a.receivedAt;
  return {
    sentPerS: ((b.sent - a.sent) * 1000) / sentMs,
    receivedPerS: ((b.received - a.received) * 1000) / receivedMs,
    detail: `sent ${b.sent - a.sent} in ${sentMs.toFixed(0)} ms, received ${b.received - a.received} in ${receivedMs.toFixed(0)} ms`,
  };
}

test('a browser that joins offers; tones both ways at once, 10 ms packets, RFC 6464 levels light "speaking" on both sides', async (t) => {
  const a = station('A', ['--host', '--port', '0', '--insecure'], ['--talk', 'main']);
  let g: GuestBrowser | undefined;
  try {
    const http = await a.hostedAt(lan.hostAddress);
    await a.connectControl();
    g = await guestOnLan('b', http);
    const id = await g.join(`http://${http}`, {
      name: 'Guest B',
      line: 'main',
      secret: 's3cret',
      // Voice processing would treat a steady test tone as noise; the guest lets a user turn it off.
      processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    await a.waitFor(new RegExp(`\\[peer ${escape(id)}\\] connected`));
    await g.tap('#talk'); // a tap latches
    const toStation = pulse.inject(pulse.devices('b').micSink, tone(440, 8, -12));
    const toBrowser = pulse.inject(pulse.devices('a').micSink, tone(1000, 8, -12));
    await sleep(2000);
    const atStation = pulse.record(pulse.devices('a').speakerMonitor);
    const atBrowser = pulse.record(pulse.devices('b').speakerMonitor);
    const rates = await packetRates(g, 3000);
    const guestSeesSpeaking = await g.page.evaluate(() => document.querySelector('#peers li[data-speaking=true]')?.textContent ?? null);
    const received = await receiverSummary(g.page);
    t.diagnostic(`the browser's receiver: ${received}`);
    await sleep(500);
    const [heardByStation, heardByBrowser] = await Promise.all([atStation.stop(), atBrowser.stop()]);
    toStation.stop();
    toBrowser.stop();

    assert.ok(heardByStation.length > 48000 * 3 && heardByBrowser.length > 48000 * 3, 'both recordings ran');
    const fStation = dominantFrequency(heardByStation, 100, 4000);
    const fBrowser = dominantFrequency(heardByBrowser, 100, 4000);
    assert.ok(Math.abs(fStation - 440) <= 3, `the station hears ${fStation} Hz from the browser`);
    // What the browser's receiver did and what the station said of its own microphone: a quiet or smeared tone in the
    // browser is either the station's sending or the browser's playing, and these tell which.
    const why = `${received}; ${a.audioTrouble()}`;
    assert.ok(Math.abs(fBrowser - 1000) <= 3, `the browser hears ${fBrowser} Hz from the station (${toneDb(heardByBrowser, 1000).toFixed(1)} dBFS; ${why})`);
    assert.ok(toneDb(heardByStation, 440) > -30, `the browser's tone is loud at the station (${toneDb(heardByStation, 440).toFixed(1)} dBFS)`);
    assert.ok(toneDb(heardByBrowser, 1000) > -30, `the station's tone is loud in the browser (${toneDb(heardByBrowser, 1000).toFixed(1)} dBFS; ${why})`);
    // a=ptime:10 from our SDP: Chromium sends 10 ms frames (100 packets/s), and so do we.
    const station = () => a.lines.filter((l) => /\[(audio|peer|playout)\]/.test(l)).slice(-8).join(' | ');
    assert.ok(rates.sentPerS > 85 && rates.sentPerS < 115, `browser sends ${rates.sentPerS.toFixed(0)} packets/s (${rates.detail})`);
    assert.ok(rates.receivedPerS > 85 && rates.receivedPerS < 115, `browser receives ${rates.receivedPerS.toFixed(0)} packets/s (${rates.detail}); station: ${station()}`);
    // The levels we put on our RTP reach the browser, and the browser's reach the station's health.
    assert.equal(guestSeesSpeaking, 'A');
    const health = a.events.filter((e) => e.event === 'health').map((e) => (e.payload as { peers: PeerHealth[] }).peers.find((p) => p.stationId === id));
    assert.ok(health.some((p) => p?.speaking === true && (p.levelDbov ?? -127) > -30), 'station health reports the browser speaking');
    assert.deepEqual(g.errors, []);
  } finally {
    await g?.close();
    assert.equal(await a.stop(), '0');
  }
});

test('a station that joins after the browser offers; the guest defaults to voice processing; bye frees the peer, a hung tab is dropped on RTP silence', async (t) => {
  const server = new SignallingServer({ port: 0, host: lan.hostAddress, lines: { main: 's3cret' }, staticDir: builtGuestDir() });
  const { url } = await server.start();
  const http = url.replace('ws://', 'http://');
  let g: GuestBrowser | undefined;
  let a: StationProcess | undefined;
  try {
    g = await guestOnLan('c', new URL(http).host);
    const first = await g.join(http, { name: 'Guest C', line: 'main', secret: 's3cret' });
    const settings = await g.page.evaluate(() => {
      const mic = (window as unknown as { partylineMicrophone?: () => MediaStreamTrack | undefined }).partylineMicrophone?.();
      const s = mic?.getSettings();
      return s && { echoCancellation: s.echoCancellation, noiseSuppression: s.noiseSuppression, autoGainControl: s.autoGainControl };
    });
    assert.deepEqual(settings, { echoCancellation: true, noiseSuppression: true, autoGainControl: true });

    a = station('A', ['--server', url, '--insecure'], ['--talk', 'main']);
    await a.waitFor(/joined main with 1 peer/);
    await a.waitFor(new RegExp(`\\[peer ${escape(first)}\\] connected`));
    // The guest answers the station's offer with its microphone on the offered transceiver: RTP flows both ways.
    await a.waitFor(new RegExp(`\\[peer ${escape(first)}\\] first RTP`), 5000);
    const toBrowser = pulse.inject(pulse.devices('a').micSink, tone(1000, 4, -12));
    await sleep(1500);
    const atBrowser = pulse.record(pulse.devices('c').speakerMonitor);
    await sleep(1500);
    const heard = await atBrowser.stop();
    toBrowser.stop();
    const received = await receiverSummary(g.page);
    t.diagnostic(`the browser's receiver: ${received}`);
    const f = dominantFrequency(heard, 100, 4000);
    assert.ok(Math.abs(f - 1000) <= 3, `the browser hears ${f} Hz from the station that offered (${toneDb(heard, 1000).toFixed(1)} dBFS; ${received}; ${a.audioTrouble()})`);

    // Leaving: the bye reaches the station, which frees the peer.
    await g.page.click('#leave');
    await a.waitFor(new RegExp(`\\[peer ${escape(first)}\\] closed \\((bye|left)\\)`), 1000);

    // A tab that hangs keeps its sockets open and says nothing: RTP silence is the only evidence.
    const second = await g.join(http, { name: 'Guest C', line: 'main', secret: 's3cret' });
    await a.waitFor(new RegExp(`\\[peer ${escape(second)}\\] first RTP`));
    g.freeze();
    const dropped = await a.waitFor(new RegExp(`\\[peer ${escape(second)}\\] closed \\((.*)\\)`), 5000);
    assert.match(dropped[1] as string, /^no RTP for \d+ ms$/);
  } finally {
    await g?.close();
    if (a) assert.equal(await a.stop(), '0');
    await server.close();
  }
});

test('a negotiated track that never carries RTP is reported as no-rtp', async () => {
  const a = station('A', ['--host', '--port', '0', '--insecure']);
  let g: GuestBrowser | undefined;
  try {
    const http = await a.hostedAt(lan.hostAddress);
    g = await guestOnLan('b', http);
    // The seed defect: a microphone track that never delivers a frame. It negotiates fine and sends nothing.
    await g.page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = async () => {
        const Generator = (window as unknown as { MediaStreamTrackGenerator: new (o: { kind: string }) => MediaStreamTrack }).MediaStreamTrackGenerator;
        return new MediaStream([new Generator({ kind: 'audio' })]);
      };
    });
    const id = await g.join(`http://${http}`, { name: 'Mute guest', line: 'main', secret: 's3cret' });
    await a.waitFor(new RegExp(`\\[peer ${escape(id)}\\] connected`));
    await a.waitFor(new RegExp(`\\[peer ${escape(id)}\\] no-rtp`), 5000);
    assert.ok(!a.lines.some((l) => l.includes(`[peer ${id}] first RTP`)), 'no RTP ever arrived');
    assert.ok(!a.lines.some((l) => l.includes(`[peer ${id}] closed`)), 'the peer is reported, not silently dropped');
  } finally {
    await g?.close();
    assert.equal(await a.stop(), '0');
  }
});

test('a browser guest sees the call light with the caller, answers it; hears private talk with its listen key off; replies to the caller alone', async () => {
  const a = station('A', ['--host', '--port', '0', '--insecure']);
  const stations = [a];
  let g: GuestBrowser | undefined;
  const injections: { stop(): void }[] = [];
  try {
    const http = await a.hostedAt(lan.hostAddress);
    const c = station('C', ['--server', `ws://${http}`, '--insecure']);
    stations.push(c);
    await a.connectControl();
    g = await guestOnLan('b', http);
    const id = await g.join(`http://${http}`, { name: 'Guest B', line: 'main', secret: 's3cret', processing: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    await a.waitFor(new RegExp(`\\[peer ${escape(id)}\\] connected`));
    await c.waitFor(new RegExp(`\\[peer ${escape(id)}\\] connected`));
    await c.waitFor(/\[peer A\] connected/);

    // The call light: lit at the guest with the caller's name; the guest answers, and the caller hears who did.
    await a.invoke('line.call', { line: 'main' });
    await g.page.waitForFunction(() => document.getElementById('call-light')?.dataset.lit === 'true');
    assert.equal(await g.page.textContent('#call-light'), 'Call from A: answer');
    const mark = a.events.length;
    await g.page.click('#call-light');
    await g.page.waitForFunction(() => document.getElementById('call-light')?.dataset.lit === 'false');
    for (let i = 0; i < 50 && !a.events.slice(mark).some((e) => e.event === 'call' && !(e.payload as { on: boolean }).on); i++) await sleep(100);
    const ended = a.events.slice(mark).find((e) => e.event === 'call') as { payload: { on: boolean; reason?: string; by?: { stationId: string } } } | undefined;
    assert.deepEqual([ended?.payload.on, ended?.payload.reason, ended?.payload.by?.stationId], [false, 'answered', id], 'the caller sees the guest answered');

    // Private talk: the guest listens to no line, A talks to it alone; the guest hears it and sees who.
    injections.push(pulse.inject(pulse.devices('a').micSink, tone(1000, 30, -12)));
    injections.push(pulse.inject(pulse.devices('b').micSink, tone(440, 30, -12)));
    await g.page.click('#listen');
    await a.invoke('talk.direct', { stationId: id, on: true });
    await g.page.waitForFunction(() => document.getElementById('direct')?.textContent === 'A talking to you');
    await sleep(1500);
    const atGuest = pulse.record(pulse.devices('b').speakerMonitor);
    await sleep(2000);
    const heardByGuest = await atGuest.stop();
    const direct = toneDb(heardByGuest, 1000, 4800, heardByGuest.length - 2400);
    const received = direct > -30 ? '' : `; the browser received: ${await g.inboundAudio()}`;
    assert.ok(direct > -30, `the guest hears A's private talk with its listen key off (${direct.toFixed(1)} dB${received})`);

    // A stops and listens to no line; the guest's reply key talks to A alone: C, on the same line, hears nothing.
    await a.invoke('talk.direct', { stationId: id, on: false });
    await a.invoke('line.setListen', { line: 'main', on: false });
    await g.page.waitForFunction(() => document.getElementById('direct')?.textContent === '');
    assert.equal(await g.page.textContent('#reply'), 'Reply to A');
    await g.tap('#reply'); // a tap latches
    await a.waitFor(new RegExp(`\\[direct\\] ${escape(id)} talks to us`));
    await sleep(1500);
    const atA = pulse.record(pulse.devices('a').speakerMonitor);
    const atC = pulse.record(pulse.devices('c').speakerMonitor);
    await sleep(2000);
    const [heardByA, heardByC] = await Promise.all([atA.stop(), atC.stop()]);
    const reply = toneDb(heardByA, 440, 4800, heardByA.length - 2400);
    assert.ok(reply > -30, `A hears the guest's reply (${reply.toFixed(1)} dB)`);
    const leaked = toneDb(heardByC, 440, 4800, heardByC.length - 2400);
    assert.ok(leaked < -60, `C hears nothing of it (${leaked.toFixed(1)} dB)`);

    // A tap on a page that is busy as it lands (setting up a call) still latches: the gesture is timed by the input
    // events' own time stamps, not by when the page got round to them. A real hold stays momentary.
    // The tap's two events carry their input times, 60 ms apart, as a real tap's do. A plain click is stamped as the
    // browser receives each event: a test process slow between its two sends (one core busy) can turn it into a hold.
    await holdNextPress(g.page, 600);
    await g.tap('#talk');
    assert.equal(await g.page.getAttribute('#talk', 'aria-pressed'), 'true', 'a tap on a busy page latches talk');
    await g.tap('#talk', false); // a second tap releases
    await g.page.hover('#talk');
    await g.page.mouse.down();
    await sleep(600);
    assert.equal(await g.page.getAttribute('#talk', 'aria-pressed'), 'true', 'talk is on while held');
    await g.page.mouse.up();
    await g.page.waitForFunction(() => document.getElementById('talk')?.getAttribute('aria-pressed') === 'false', undefined, { timeout: 5000 }).catch(() => undefined);
    assert.equal(await g.page.getAttribute('#talk', 'aria-pressed'), 'false', 'a hold is momentary: release ends talk');
    assert.deepEqual(g.errors, []);
  } finally {
    for (const i of injections) i.stop();
    await g?.close();
    await stopStations(stations.reverse());
  }
});
