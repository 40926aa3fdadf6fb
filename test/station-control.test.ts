// The station's control side on its own: line keys and talk routing, glare, the RTP watch, with its media and
// signalling injected (a recording media side, a scripted signalling link), so every decision is seen exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { LineKeys } from '../electron/engine/control/line-keys';
import { onRemoteOffer } from '../electron/engine/control/glare';
import { watchRtp } from '../electron/engine/control/rtp-watch';
import { onAbsent, onBroken, onListed } from '../electron/engine/control/recovery';
import { Station } from '../electron/engine/station';
import type { Media, MediaCommand, MediaEvent, PeerMediaHealth } from '../electron/engine/media/media-protocol';
import type { SignallingLink } from '../electron/common/signalling-link';
import { signallingNetwork } from '../electron/signalling/station-network';
import type { Presence } from '../electron/common/signalling-protocol';

const presence = (stationId: string, lines: string[], talking: string[] = [], kind: 'station' | 'browser' = 'station'): Presence => ({ stationId, name: stationId.toUpperCase(), kind, lines, talking });

test('line keys: the microphone goes to remotes sharing a line we talk on; each remote plays at its loudest listened line', () => {
  const keys = new LineKeys();
  keys.reset(['main', 'tech']);
  const remotes = [presence('a', ['main'], ['main']), presence('b', ['tech'], ['tech']), presence('c', ['main', 'tech'], ['main', 'tech'])];
  assert.deepEqual(keys.routing(remotes), { sendTo: [], gains: { a: 1, b: 1, c: 1 } });
  keys.get('main').talk = true;
  keys.get('tech').volume = 0.5;
  keys.get('main').listen = false;
  assert.deepEqual(keys.routing(remotes), { sendTo: ['a', 'c'], gains: { a: 0, b: 0.5, c: 0.5 } });
  assert.throws(() => keys.get('nope'), (e: Error & { code?: string; field?: string }) => e.code === 'invalid' && e.field === 'line' && /"nope"/.test(e.message));
});

test('line mix: each line carries the remotes talking on it, at its volume while listened, and nothing else', () => {
  const keys = new LineKeys();
  keys.reset(['main', 'tech', 'spare']);
  keys.get('tech').volume = 0.5;
  const remotes = [presence('a', ['main'], ['main']), presence('b', ['tech'], ['tech']), presence('c', ['main', 'tech'], ['main', 'tech']), presence('d', ['main'])];
  assert.deepEqual(keys.lineMix(remotes), { main: { a: 1, c: 1 }, tech: { b: 0.5, c: 0.5 }, spare: {} });
  keys.get('main').listen = false;
  assert.deepEqual(keys.lineMix(remotes).main, { a: 0, c: 0 }, 'a line not listened to plays nothing');
});

test('glare: both sides decide alike from the ids, the lower id keeps its offer', () => {
  assert.equal(onRemoteOffer('a', 'b', { negotiation: 'offering', connection: 'new' }), 'ignore');
  assert.equal(onRemoteOffer('b', 'a', { negotiation: 'offering', connection: 'new' }), 'restart');
  assert.equal(onRemoteOffer('b', 'a', undefined), 'accept');
  assert.equal(onRemoteOffer('b', 'a', { negotiation: 'new', connection: 'new' }), 'accept');
  // A remote we had negotiated with offers anew: it restarted, and gets a fresh peer.
  assert.equal(onRemoteOffer('b', 'a', { negotiation: 'stable', connection: 'connected' }), 'restart');
});

test('the RTP watch: a silent talker is no-rtp, a browser gone quiet is dropped, flowing again clears it', () => {
  const o = { noRtpMs: 2000, browserGoneMs: 3000 };
  const h = (over: Partial<PeerMediaHealth>): PeerMediaHealth => ({
    id: 'a', connection: 'connected', rttMs: null, rtpAgoMs: null, connectedForMs: 5000, jitterMs: 0, lossRate: 0, playoutDelayMs: 0,
    targetDelayMs: 0, lowLatency: false, concealedFrames: 0, stretchedFrames: 0, fecRecoveredFrames: 0, remoteLossRate: null, ...over,
  });
  assert.equal(watchRtp(h({}), { kind: 'station', talkingForMs: null }, o), undefined, 'a station that does not talk sends nothing, rightly');
  assert.equal(watchRtp(h({}), { kind: 'station', talkingForMs: 2500 }, o), 'no-rtp');
  assert.equal(watchRtp(h({ connectedForMs: 500 }), { kind: 'station', talkingForMs: 2500 }, o), undefined, 'a call just up has not had the time to carry a talker');
  assert.equal(watchRtp(h({ rtpAgoMs: 100 }), { kind: 'station', talkingForMs: 2500 }, o), undefined);
  assert.equal(watchRtp(h({ connection: 'no-rtp', rtpAgoMs: 100 }), { kind: 'station', talkingForMs: 2500 }, o), 'flowing');
  assert.equal(watchRtp(h({ rtpAgoMs: 3500 }), { kind: 'browser', talkingForMs: null }, o), 'gone');
  assert.equal(watchRtp(h({ connection: 'connecting' }), { kind: 'browser', talkingForMs: null }, o), undefined);
});

test('recovery: a live call outlasts presence; a call that is not live is set up anew by one agreed side', () => {
  const live = { negotiation: 'stable', connection: 'connected' } as const;
  const failed = { negotiation: 'stable', connection: 'failed' } as const;
  assert.equal(onAbsent(live), 'keep', 'a server restart or a lost socket does not end a call that carries RTP');
  assert.equal(onAbsent({ negotiation: 'stable', connection: 'no-rtp' }), 'keep');
  assert.equal(onAbsent(failed), 'drop');
  assert.equal(onAbsent({ negotiation: 'offering', connection: 'new' }), 'drop');
  // Listed: the newcomer offers, as for a first call; a live call stays on both sides.
  assert.equal(onListed('b', 'a', undefined, true), 'offer');
  assert.equal(onListed('a', 'b', undefined, false), 'wait');
  assert.equal(onListed('b', 'a', live, true), 'keep');
  assert.equal(onListed('a', 'b', live, false), 'keep');
  // A dead call: the newcomer offers anew; in a presence update only the lower id does, so exactly one side offers.
  assert.equal(onListed('b', 'a', failed, true), 'restart-offer');
  assert.equal(onListed('a', 'b', failed, false), 'restart-offer');
  assert.equal(onListed('b', 'a', failed, false), 'restart-wait');
  // An unanswered offer of ours may have gone down with the server: the newcomer offers again.
  assert.equal(onListed('b', 'a', { negotiation: 'offering', connection: 'new' }, true), 'restart-offer');
  assert.equal(onListed('b', 'a', { negotiation: 'stable', connection: 'connecting' }, true), 'keep');
  // Broken while both stay joined: the lower id re-offers, the higher waits.
  const reach = { joined: true, present: true, confirmed: true };
  assert.equal(onBroken('a', 'b', 'failed', reach), 'restart-offer');
  assert.equal(onBroken('b', 'a', 'failed', reach), 'restart-wait');
  assert.equal(onBroken('a', 'b', 'silent', reach), 'restart-offer');
  assert.equal(onBroken('a', 'b', 'failed', { joined: false, present: true, confirmed: false }), 'hold', 'nothing to offer through while our signalling is down');
  assert.equal(onBroken('a', 'b', 'failed', { joined: true, present: false, confirmed: true }), 'drop');
  assert.equal(onBroken('a', 'b', 'silent', { joined: true, present: false, confirmed: true }), 'hold', 'a peer cut off the network comes back with its call');
  assert.equal(onBroken('a', 'b', 'silent', { joined: true, present: true, confirmed: false }), 'hold', 'silence is not judged before the server answered us since');
  assert.equal(onBroken('a', 'b', 'failed', { joined: true, present: true, confirmed: false }), 'restart-offer', 'a failed call is dead whatever our link');
});

/** A media side that records what the control side asks of it, and reports what the test tells it to. */
class RecordingMedia implements Media {
  readonly calls: MediaCommand[] = [];
  private listener: ((e: MediaEvent) => void) | undefined;
  async call<C extends MediaCommand>(command: C): Promise<never> {
    this.calls.push(command);
    return undefined as never;
  }
  onEvent(listener: (e: MediaEvent) => void): void {
    this.listener = listener;
  }
  report(e: MediaEvent): void {
    this.listener?.(e);
  }
  async close(): Promise<void> {}
  ops(...ops: MediaCommand['op'][]): string[] {
    return this.calls.filter((c) => ops.includes(c.op)).map((c) => `${c.op}${'id' in c ? ` ${c.id}` : ''}`);
  }
}

/** A signalling link the test scripts: what the server would say, and what the station sent. */
class ScriptedSignalling extends EventEmitter {
  readonly sent: unknown[] = [];
  private lastHeard = 0;
  override emit(event: string, ...args: unknown[]): boolean {
    this.lastHeard = performance.now();
    return super.emit(event, ...args);
  }
  heardSince(sinceMs: number): boolean {
    return this.lastHeard > sinceMs;
  }
  probe(): void {
    this.sent.push({ type: 'ping' });
  }
  send(msg: unknown): void {
    this.sent.push(msg);
  }
  setTalking(lines: string[]): void {
    this.sent.push({ type: 'talk', lines });
  }
  async close(): Promise<void> {}
}

async function stationOn(id: string, lines: string[], options: ConstructorParameters<typeof Station>[0] = {}) {
  const media = new RecordingMedia();
  const link = new ScriptedSignalling();
  const station = new Station(options, { createMedia: () => media, network: { ...signallingNetwork(undefined), join: () => link as unknown as SignallingLink } });
  await station.connect({ name: id, stationId: id, server: { kind: 'remote', url: 'ws://127.0.0.1:1', insecure: true }, lines: lines.map((line) => ({ line })), iceServers: [] });
  return { station, media, link };
}

const tick = () => new Promise((r) => setImmediate(r));

test('glare in the station: the higher id yields to the offer that crossed its own, the lower id keeps its own', async () => {
  const b = await stationOn('b', ['main']);
  b.link.emit('joined', { type: 'joined', stationId: 'b', lines: ['main'], peers: [presence('a', ['main'])] });
  assert.deepEqual(b.media.ops('addPeer', 'offer'), ['addPeer a', 'offer a'], 'the newcomer offers');
  b.link.emit('offer', { type: 'offer', from: 'a', sdp: 'v=0 a' });
  await tick();
  assert.deepEqual(b.media.ops('addPeer', 'dropPeer', 'offer', 'acceptOffer'), ['addPeer a', 'offer a', 'dropPeer a', 'addPeer a', 'acceptOffer a'], 'b yields: a fresh peer answers a');

  const a = await stationOn('a', ['main']);
  a.link.emit('joined', { type: 'joined', stationId: 'a', lines: ['main'], peers: [presence('b', ['main'])] });
  a.link.emit('offer', { type: 'offer', from: 'b', sdp: 'v=0 b' });
  await tick();
  assert.deepEqual(a.media.ops('addPeer', 'dropPeer', 'offer', 'acceptOffer'), ['addPeer b', 'offer b'], 'a keeps its offer and ignores b\'s');
  a.link.emit('answer', { type: 'answer', from: 'b', sdp: 'v=0 answer' });
  assert.deepEqual(a.media.ops('acceptAnswer'), ['acceptAnswer b']);
  await Promise.all([a.station.close(), b.station.close()]);
});

test('talk routing: keys and remote talk push gains and send targets to the media side when they change, once each', async () => {
  const s = await stationOn('s', ['main', 'tech']);
  s.link.emit('joined', { type: 'joined', stationId: 's', lines: ['main', 'tech'], peers: [presence('a', ['main']), presence('b', ['tech'])] });
  const routings = () => s.media.calls.flatMap((c) => (c.op === 'setRouting' ? [c.routing] : []));
  const before = routings().length;
  s.station.setTalk('main', true);
  assert.deepEqual(routings().at(-1), { sendTo: ['a'], gains: { a: 0, b: 0 } });
  s.link.emit('talk', { type: 'talk', from: 'b', lines: ['tech'] });
  assert.deepEqual(routings().at(-1), { sendTo: ['a'], gains: { a: 0, b: 1 } });
  s.station.setVolume('tech', 0.25);
  assert.deepEqual(routings().at(-1), { sendTo: ['a'], gains: { a: 0, b: 0.25 } });
  s.station.setVolume('tech', 0.25);
  s.station.setListen('main', true);
  assert.equal(routings().length, before + 3, 'nothing is pushed when nothing changed');
  assert.ok(s.link.sent.some((m) => JSON.stringify(m) === JSON.stringify({ type: 'talk', lines: ['main'] })), 'the talk key goes to signalling');
  assert.throws(() => s.station.setTalk('nope', true), (e: Error & { field?: string }) => e.field === 'line');
  await s.station.close();
});

test('the RTP watch in the station: a remote that talks but sends nothing is marked no-rtp on the media side', async () => {
  const s = await stationOn('s', ['main'], { noRtpMs: 10 });
  s.link.emit('joined', { type: 'joined', stationId: 's', lines: ['main'], peers: [presence('a', ['main'], ['main'])] });
  await new Promise((r) => setTimeout(r, 30));
  const health: PeerMediaHealth = {
    id: 'a', connection: 'connected', rttMs: 1, rtpAgoMs: null, connectedForMs: 1000, jitterMs: 0, lossRate: 0, playoutDelayMs: 0, targetDelayMs: 0,
    lowLatency: false, concealedFrames: 0, stretchedFrames: 0, fecRecoveredFrames: 0, remoteLossRate: null,
  };
  s.media.report({ type: 'health', peers: [health], speaker: null, selection: { inputId: null, outputId: null, inputState: 'ok', outputState: 'ok' } });
  assert.deepEqual(s.media.calls.filter((c) => c.op === 'markRtp').at(-1), { op: 'markRtp', id: 'a', flowing: false });
  assert.equal(s.station.health()[0]?.name, 'A', 'health carries the name from presence');
  await s.station.close();
});

test('mic mute: nothing leaves the microphone and signalling shows us silent; the keys stay latched and come back on unmute', async () => {
  const s = await stationOn('s', ['main', 'tech']);
  s.link.emit('joined', { type: 'joined', stationId: 's', lines: ['main', 'tech'], peers: [presence('a', ['main'])] });
  const routings = () => s.media.calls.flatMap((c) => (c.op === 'setRouting' ? [c.routing] : []));
  s.station.setTalk('main', true);
  assert.deepEqual(routings().at(-1)?.sendTo, ['a']);
  assert.deepEqual(s.station.setMicMute(true), { micMuted: true, volume: 1, callTone: false });
  assert.deepEqual(routings().at(-1)?.sendTo, [], 'muted: the microphone goes to nobody');
  assert.deepEqual(s.link.sent.at(-1), { type: 'talk', lines: [] }, 'and no panel shows us talking');
  assert.equal(s.station.state().lines[0]?.talk, true, 'the talk key stays latched');
  s.station.setMicMute(false);
  assert.deepEqual(routings().at(-1)?.sendTo, ['a']);
  assert.deepEqual(s.link.sent.at(-1), { type: 'talk', lines: ['main'] });

  s.station.setTalk('tech', true);
  const state = s.station.allTalkOff();
  assert.deepEqual(state.lines.map((l) => l.talk), [false, false], 'all talk off');
  assert.deepEqual(s.link.sent.at(-1), { type: 'talk', lines: [] });
  assert.deepEqual(s.station.setMasterVolume(0.25), { micMuted: false, volume: 0.25, callTone: false });
  assert.deepEqual(s.media.calls.at(-1), { op: 'setMasterVolume', volume: 0.25 });
  assert.deepEqual(s.media.calls.filter((c) => c.op === 'setLineMix').at(-1), { op: 'setLineMix', lines: { main: {}, tech: {} } });
  await s.station.close();
});

test('call lights: a call from the server lights the line with the caller, an event says so, and its end puts it out', async () => {
  const s = await stationOn('s', ['main', 'tech']);
  s.link.emit('state', 'joined');
  s.link.emit('joined', { type: 'joined', stationId: 's', lines: ['main', 'tech'], peers: [presence('a', ['main']), presence('g', ['main'], [], 'browser')] });
  const events: unknown[] = [];
  s.station.on('event', (name, payload) => name === 'call' && events.push(payload));
  assert.deepEqual(s.station.state().lines[0]?.members, [{ stationId: 'a', name: 'A', kind: 'station' }, { stationId: 'g', name: 'G', kind: 'browser' }], 'the roster of main');
  s.link.emit('call', { type: 'call', line: 'main', on: true, from: 'a', name: 'A' });
  assert.deepEqual(s.station.state().lines[0]?.call, { from: 'a', name: 'A' });
  assert.equal(s.station.state().lines[1]?.call, null);
  s.station.answerCall('main');
  assert.deepEqual(s.link.sent.at(-1), { type: 'call', line: 'main', on: false }, 'answering goes to the server, which ends it for everyone');
  s.link.emit('call', { type: 'call', line: 'main', on: false, from: 'a', name: 'A', reason: 'answered', by: { stationId: 's', name: 'S' } });
  assert.equal(s.station.state().lines[0]?.call, null);
  assert.deepEqual(events, [
    { line: 'main', from: 'a', name: 'A', on: true },
    { line: 'main', from: 'a', name: 'A', on: false, reason: 'answered', by: { stationId: 's', name: 'S' } },
  ]);
  s.station.callLine('tech');
  assert.deepEqual(s.link.sent.at(-1), { type: 'call', line: 'tech', on: true });
  const before = s.link.sent.length;
  assert.throws(() => s.station.callLine('elsewhere'), (e: Error & { code?: string; field?: string }) => e.code === 'invalid' && e.field === 'line');
  assert.equal(s.link.sent.length, before, 'a call on a line the station is not on sends nothing');
  await s.station.close();
});

test('private talk: the microphone goes to the target alone, a station talking to us directly plays at full volume, reply answers it', async () => {
  const s = await stationOn('s', ['main']);
  s.link.emit('state', 'joined');
  s.link.emit('joined', { type: 'joined', stationId: 's', lines: ['main'], peers: [presence('a', ['main']), presence('b', ['main'])] });
  const routings = () => s.media.calls.flatMap((c) => (c.op === 'setRouting' ? [c.routing] : []));
  s.station.setListen('main', false);
  assert.deepEqual(s.station.talkDirect('a', true).talkingTo, [{ stationId: 'a', name: 'A' }]);
  assert.deepEqual(s.link.sent.at(-1), { type: 'direct', to: 'a', on: true });
  assert.deepEqual(routings().at(-1), { sendTo: ['a'], gains: { a: 0, b: 0 } }, 'to a alone');
  const before = s.link.sent.length;
  assert.throws(() => s.station.talkDirect('nobody', true), (e: Error & { code?: string; field?: string }) => e.code === 'invalid' && e.field === 'stationId');
  assert.throws(() => s.station.reply(true), (e: Error & { code?: string }) => e.code === 'failed' && /nobody has talked/.test(e.message));
  assert.equal(s.link.sent.length, before, 'bad input sends nothing');
  s.station.talkDirect('a', false);

  // b talks to us alone: heard though we listen to no line, and the reply key answers b.
  s.link.emit('direct', { type: 'direct', to: 's', on: true, from: 'b' });
  assert.deepEqual(routings().at(-1), { sendTo: [], gains: { a: 0, b: 1 } });
  assert.deepEqual(s.station.state().direct, { talkingTo: [], incoming: [{ stationId: 'b', name: 'B' }], replyTo: { stationId: 'b', name: 'B' } });
  s.station.reply(true);
  assert.deepEqual(s.link.sent.at(-1), { type: 'direct', to: 'b', on: true });
  assert.deepEqual(routings().at(-1), { sendTo: ['b'], gains: { a: 0, b: 1 } });
  const mark = s.link.sent.length;
  assert.deepEqual(s.station.allTalkOff().direct?.talkingTo, []);
  assert.deepEqual(s.link.sent.slice(mark), [{ type: 'direct', to: 'b', on: false }, { type: 'talk', lines: [] }], 'all talk off ends private talk too');
  s.link.emit('bye', { type: 'bye', from: 'b' });
  await tick();
  assert.deepEqual(s.station.state().direct?.incoming, [], 'a station gone no longer talks to us');
  await s.station.close();
});

test('live line change: the server\'s fresh joined offers to newcomers only and drops who no longer shares a line; kept peers are untouched', async () => {
  const s = await stationOn('s', ['main', 'tech']);
  s.link.emit('state', 'joined');
  s.link.emit('joined', { type: 'joined', stationId: 's', lines: ['main', 'tech'], peers: [presence('a', ['main']), presence('t', ['tech'])] });
  s.station.setTalk('main', true);
  s.station.setVolume('main', 0.5);
  const mark = s.media.calls.length;
  const state = s.station.setLines([{ line: 'main' }, { line: 'aux' }]);
  assert.deepEqual(state.lines.map((l) => [l.line, l.talk, l.volume]), [['main', true, 0.5], ['aux', false, 1]], 'the kept line keeps its keys');
  assert.ok(s.link.sent.some((m) => JSON.stringify(m) === JSON.stringify({ type: 'lines', lines: [{ line: 'main' }, { line: 'aux' }] })));
  s.link.emit('bye', { type: 'bye', from: 't', to: 's' });
  s.link.emit('joined', { type: 'joined', stationId: 's', lines: ['main', 'aux'], peers: [presence('a', ['main']), presence('x', ['aux'])] });
  await tick();
  const ops = s.media.calls.slice(mark).filter((c) => c.op !== 'setRouting' && c.op !== 'setLineMix').map((c) => `${c.op}${'id' in c ? ` ${c.id}` : ''}`);
  assert.deepEqual(ops, ['dropPeer t', 'addPeer x', 'offer x'], 'a is never touched');
  assert.throws(() => s.station.setTalk('tech', true), (e: Error & { field?: string }) => e.field === 'line');
  await s.station.close();
});

test('live line change: a line kept keeps its secret when the caller gives none; a secret given wins; a line left is forgotten', async () => {
  const media = new RecordingMedia();
  const link = new ScriptedSignalling();
  const station = new Station({}, { createMedia: () => media, network: { ...signallingNetwork(undefined), join: () => link as unknown as SignallingLink } });
  const lines = [{ line: 'main', secret: 'main-secret' }, { line: 'tech', secret: 'tech-secret' }];
  await station.connect({ name: 's', stationId: 's', server: { kind: 'remote', url: 'ws://127.0.0.1:1', insecure: true }, lines, iceServers: [] });
  link.emit('state', 'joined');
  link.emit('joined', { type: 'joined', stationId: 's', lines: ['main', 'tech'], peers: [] });
  const lastLines = () => link.sent.filter((m) => (m as { type: string }).type === 'lines').at(-1);

  station.setLines([{ line: 'main' }, { line: 'aux', secret: 'aux-secret' }]);
  assert.deepEqual(lastLines(), { type: 'lines', lines: [{ line: 'main', secret: 'main-secret' }, { line: 'aux', secret: 'aux-secret' }] }, 'main is sent with its secret, tech is left');
  station.setLines([{ line: 'main', secret: 'new-secret' }]);
  assert.deepEqual(lastLines(), { type: 'lines', lines: [{ line: 'main', secret: 'new-secret' }] });
  station.setLines([{ line: 'main' }, { line: 'aux' }, { line: 'tech' }]);
  assert.deepEqual(lastLines(), { type: 'lines', lines: [{ line: 'main', secret: 'new-secret' }, { line: 'aux' }, { line: 'tech' }] }, 'lines left come back without their old secrets');
  await station.close();
});

const connected = (s: { media: RecordingMedia }, id: string) => s.media.report({ type: 'connection', id, state: 'connected' });

test('a rejoin keeps the calls that carry RTP: neither the first nor the second station back drops or re-offers', async () => {
  const a = await stationOn('a', ['main']);
  const b = await stationOn('b', ['main']);
  a.link.emit('joined', { type: 'joined', stationId: 'a', lines: ['main'], peers: [] });
  b.link.emit('joined', { type: 'joined', stationId: 'b', lines: ['main'], peers: [presence('a', ['main'])] });
  a.link.emit('presence', { type: 'presence', peers: [presence('b', ['main'])] });
  a.link.emit('offer', { type: 'offer', from: 'b', sdp: 'v=0 b' });
  b.link.emit('answer', { type: 'answer', from: 'a', sdp: 'v=0 a' });
  await tick();
  connected(a, 'b');
  connected(b, 'a');
  const before = { a: a.media.calls.length, b: b.media.calls.length };
  const peerOps = (s: { media: RecordingMedia }, from: number) => s.media.calls.slice(from).filter((c) => ['addPeer', 'dropPeer', 'offer'].includes(c.op));

  // The server goes away; both lose signalling; the server sends bye for each as it drops the other's socket.
  a.link.emit('state', 'reconnecting');
  b.link.emit('bye', { type: 'bye', from: 'a' });
  b.link.emit('state', 'reconnecting');
  // a is back first and sees nobody; b comes back and sees a.
  a.link.emit('state', 'joined');
  a.link.emit('joined', { type: 'joined', stationId: 'a', lines: ['main'], peers: [] });
  b.link.emit('state', 'joined');
  b.link.emit('joined', { type: 'joined', stationId: 'b', lines: ['main'], peers: [presence('a', ['main'])] });
  a.link.emit('presence', { type: 'presence', peers: [presence('b', ['main'])] });
  await tick();
  assert.deepEqual(peerOps(a, before.a), [], 'the first station back keeps its call');
  assert.deepEqual(peerOps(b, before.b), [], 'the second keeps its call and does not offer: it is live');
  await Promise.all([a.station.close(), b.station.close()]);
});

test('a call that failed is set up anew: the lower id offers, the higher waits, and offers itself when no offer comes', async () => {
  const a = await stationOn('a', ['main']);
  a.link.emit('joined', { type: 'joined', stationId: 'a', lines: ['main'], peers: [] });
  a.link.emit('presence', { type: 'presence', peers: [presence('b', ['main'])] });
  a.link.emit('offer', { type: 'offer', from: 'b', sdp: 'v=0 b' });
  await tick();
  connected(a, 'b');
  const from = a.media.calls.length;
  a.media.report({ type: 'connection', id: 'b', state: 'failed' });
  await tick();
  assert.deepEqual(a.media.calls.slice(from).map((c) => `${c.op}${'id' in c ? ` ${c.id}` : ''}`).filter((o) => !o.startsWith('setRouting')), ['dropPeer b', 'addPeer b', 'offer b']);

  const b = await stationOn('b', ['main'], { reofferWaitMs: 30 });
  b.link.emit('joined', { type: 'joined', stationId: 'b', lines: ['main'], peers: [presence('a', ['main'])] });
  b.link.emit('answer', { type: 'answer', from: 'a', sdp: 'v=0 a' });
  connected(b, 'a');
  const fromB = b.media.calls.length;
  b.media.report({ type: 'connection', id: 'a', state: 'failed' });
  await tick();
  assert.deepEqual(b.media.ops('dropPeer', 'addPeer', 'offer').slice(-2), ['dropPeer a', 'addPeer a'], 'b waits for a\'s offer on a fresh peer');
  assert.ok(!b.media.calls.slice(fromB).some((c) => c.op === 'offer'));
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(b.media.calls.slice(fromB).filter((c) => c.op === 'offer').length, 1, 'no offer came: b offers itself');
  await Promise.all([a.station.close(), b.station.close()]);
});

test('a call that failed while our signalling was down is re-offered by the newcomer once it rejoins', async () => {
  const b = await stationOn('b', ['main']);
  b.link.emit('joined', { type: 'joined', stationId: 'b', lines: ['main'], peers: [presence('a', ['main'])] });
  b.link.emit('answer', { type: 'answer', from: 'a', sdp: 'v=0 a' });
  connected(b, 'a');
  b.link.emit('state', 'reconnecting');
  const from = b.media.calls.length;
  b.media.report({ type: 'connection', id: 'a', state: 'failed' });
  await tick();
  assert.deepEqual(b.media.calls.slice(from).filter((c) => c.op !== 'setRouting'), [], 'held: nobody to offer to');
  b.link.emit('state', 'joined');
  b.link.emit('joined', { type: 'joined', stationId: 'b', lines: ['main'], peers: [presence('a', ['main'])] });
  await tick();
  assert.deepEqual(b.media.ops('dropPeer', 'addPeer', 'offer').slice(-3), ['dropPeer a', 'addPeer a', 'offer a']);
  await b.station.close();
});

test('bye: a hang-up ends the call; the server seeing a peer go does not end a live one; leaving hangs up', async () => {
  const s = await stationOn('s', ['main']);
  s.link.emit('joined', { type: 'joined', stationId: 's', lines: ['main'], peers: [presence('a', ['main']), presence('b', ['main']), presence('c', ['main'])] });
  connected(s, 'a');
  connected(s, 'b');
  s.link.emit('bye', { type: 'bye', from: 'a' });
  s.link.emit('bye', { type: 'bye', from: 'b', to: 's' });
  s.link.emit('bye', { type: 'bye', from: 'c' });
  await tick();
  assert.deepEqual(s.media.ops('dropPeer'), ['dropPeer b', 'dropPeer c'], 'a stays (live), b hung up, c was still negotiating');
  await s.station.close();
  assert.ok(s.link.sent.some((m) => JSON.stringify(m) === JSON.stringify({ type: 'bye', to: 'a' })), 'a hang-up to each peer on leaving');
});

/** Station a with a live call to b, which talks to it on main; `report` sends a's health line for b. */
async function callWithTalkingB() {
  const s = await stationOn('a', ['main'], { noRtpMs: 10, staleRtpMs: 40 });
  s.link.emit('joined', { type: 'joined', stationId: 'a', lines: ['main'], peers: [] });
  s.link.emit('presence', { type: 'presence', peers: [presence('b', ['main'], ['main'])] });
  s.link.emit('offer', { type: 'offer', from: 'b', sdp: 'v=0 b' });
  await tick();
  connected(s, 'b');
  await new Promise((r) => setTimeout(r, 30));
  const health = (connection: 'connected' | 'no-rtp', rtpAgoMs: number): PeerMediaHealth => ({
    id: 'b', connection, rttMs: 1, rtpAgoMs, connectedForMs: 60_000, jitterMs: 0, lossRate: 0, playoutDelayMs: 0, targetDelayMs: 0,
    lowLatency: false, concealedFrames: 0, stretchedFrames: 0, fecRecoveredFrames: 0, remoteLossRate: null,
  });
  const report = (connection: 'connected' | 'no-rtp', rtpAgoMs: number) =>
    s.media.report({ type: 'health', peers: [health(connection, rtpAgoMs)], speaker: null, selection: { inputId: null, outputId: null, inputState: 'ok', outputState: 'ok' } });
  return { s, report };
}

test('a station that talks but has sent no RTP for a long while gets a fresh call from the agreed side', async () => {
  const { s, report } = await callWithTalkingB();
  report('connected', 5000);
  s.media.report({ type: 'connection', id: 'b', state: 'no-rtp' });
  report('no-rtp', 5000);
  assert.ok(!s.media.calls.some((c) => c.op === 'dropPeer'), 'silent for a moment: marked, not replaced');
  await new Promise((r) => setTimeout(r, 60));
  report('no-rtp', 5000);
  await tick();
  assert.deepEqual(s.media.ops('dropPeer', 'addPeer', 'offer').slice(-3), ['dropPeer b', 'addPeer b', 'offer b']);
  await s.station.close();
});

test('a call gone silent while our own link may be down is held and the server probed; once it answers, the call is repaired', async () => {
  const { s, report } = await callWithTalkingB();
  // RTP stops now, after the server was last heard: our own link may be what went down.
  const stoppedAt = performance.now();
  const rtpAgo = () => performance.now() - stoppedAt + 15;
  report('connected', rtpAgo());
  s.media.report({ type: 'connection', id: 'b', state: 'no-rtp' });
  report('no-rtp', rtpAgo());
  await new Promise((r) => setTimeout(r, 60));
  report('no-rtp', rtpAgo());
  await tick();
  assert.deepEqual(s.media.ops('dropPeer', 'addPeer', 'offer'), ['addPeer b'], 'the call is held, not torn down');
  assert.ok(s.link.sent.some((m) => (m as { type: string }).type === 'ping'), 'the server was asked for a sign of life');
  // The server answers: our link works, so the silence is the call's, and it is repaired.
  s.link.emit('pong', { type: 'pong', t: Date.now() });
  await new Promise((r) => setTimeout(r, 60));
  report('no-rtp', rtpAgo());
  await tick();
  assert.deepEqual(s.media.ops('dropPeer', 'addPeer', 'offer').slice(-3), ['dropPeer b', 'addPeer b', 'offer b']);
  await s.station.close();
});
