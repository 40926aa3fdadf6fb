import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION, type ServerMessage } from '../electron/common/signalling-protocol';
import { SignallingClient, SignallingSendError, connectTimeoutMs, handshakeTimeoutMs, type SignallingClientState } from '../electron/signalling/client';
import { MAX_BACKLOG_FRAMES, SignallingServer, type SignallingServerOptions } from '../electron/signalling/server';

type Received = ServerMessage & Record<string, unknown>;

/** A bare ws connection that records every server message, for asserting exactly what arrived. */
class Probe {
  readonly received: Received[] = [];
  private taken = new Set<number>();
  private waiters: (() => void)[] = [];
  private pings = 0;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as Received);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, options: { autoPong?: boolean; headers?: Record<string, string> } = {}): Promise<Probe> {
    const ws = new WebSocket(url, options);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Probe(ws);
  }

  static async join(url: string, stationId: string, lines: { line: string; secret?: string }[], options: { autoPong?: boolean } = {}): Promise<Probe> {
    const probe = await Probe.connect(url, options);
    probe.send({ type: 'join', stationId, name: `Station ${stationId}`, kind: 'station', lines, protocol: PROTOCOL_VERSION });
    await probe.take('joined');
    return probe;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first not-yet-taken message of this type (waiting for it if need be). */
  async take<T extends Received['type']>(type: T, where: (m: Extract<Received, { type: T }>) => boolean = () => true): Promise<Extract<Received, { type: T }>> {
    for (;;) {
      const index = this.received.findIndex((m, i) => !this.taken.has(i) && m.type === type && where(m as Extract<Received, { type: T }>));
      if (index >= 0) {
        this.taken.add(index);
        return this.received[index] as Extract<Received, { type: T }>;
      }
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  /** Round-trips a ping: everything the server sent this probe before answering has arrived. */
  async settle(): Promise<void> {
    const t = ++this.pings;
    this.send({ type: 'ping', t });
    await this.take('pong', (m) => m.t === t);
  }

  /** Messages other than the settle() pongs. */
  get traffic(): Received[] {
    return this.received.filter((m) => m.type !== 'pong');
  }

  close(): void {
    this.ws.terminate();
  }
}

const servers: SignallingServer[] = [];
const probes: Probe[] = [];

async function startServer(options: Partial<SignallingServerOptions> = {}): Promise<{ server: SignallingServer; url: string; port: number }> {
  const server = new SignallingServer({ port: 0, ...options });
  servers.push(server);
  const { url, port } = await server.start();
  return { server, url, port };
}

async function join(url: string, stationId: string, lines: { line: string; secret?: string }[], options: { autoPong?: boolean } = {}): Promise<Probe> {
  const probe = await Probe.join(url, stationId, lines, options);
  probes.push(probe);
  return probe;
}

after(async () => {
  for (const p of probes) p.close();
  await Promise.all(servers.map((s) => s.close()));
});

function waitForState(client: SignallingClient, state: SignallingClientState): Promise<void> {
  if (client.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const onState = (s: SignallingClientState) => {
      if (s !== state) return;
      client.off('state', onState);
      resolve();
    };
    client.on('state', onState);
  });
}

describe('signalling server', () => {
  test('presence is per line: a station sees only peers sharing a line, and only the shared lines', async () => {
    const { url } = await startServer({ lines: { main: 'm41n' } });
    const a = await join(url, 'A', [{ line: 'main', secret: 'm41n' }, { line: 'aux' }]);
    assert.deepEqual(a.received[0], { type: 'joined', stationId: 'A', lines: ['main', 'aux'], peers: [] });

    const b = await join(url, 'B', [{ line: 'aux' }]);
    const c = await join(url, 'C', [{ line: 'other' }]);
    assert.deepEqual(b.received[0], {
      type: 'joined',
      stationId: 'B',
      lines: ['aux'],
      peers: [{ stationId: 'A', name: 'Station A', kind: 'station', lines: ['aux'], talking: [] }],
    });
    assert.deepEqual(await a.take('presence'), {
      type: 'presence',
      peers: [{ stationId: 'B', name: 'Station B', kind: 'station', lines: ['aux'], talking: [] }],
    });
    assert.deepEqual(c.received[0], { type: 'joined', stationId: 'C', lines: ['other'], peers: [] });

    a.send({ type: 'talk', lines: ['main', 'aux'] });
    assert.deepEqual(await b.take('talk'), { type: 'talk', from: 'A', lines: ['aux'] });
    assert.deepEqual((await b.take('presence')).peers[0]?.talking, ['aux']);

    await a.settle();
    await c.settle();
    assert.deepEqual(c.traffic.map((m) => m.type), ['joined'], 'a station on another line hears nothing');
    assert.deepEqual(a.traffic.map((m) => m.type), ['joined', 'presence'], 'a talker gets no echo of its own talk');
  });

  test('talk on a line the station is not a member of is refused, naming the entry', async () => {
    const { url } = await startServer();
    const a = await join(url, 'A', [{ line: 'main' }]);
    a.send({ type: 'talk', lines: ['main', 'elsewhere'] });
    const error = await a.take('error');
    assert.equal(error.code, 'invalid');
    assert.equal(error.field, 'lines.1');
    assert.match(error.message, /elsewhere/);
  });

  test('offer, answer and candidate reach the addressed peer only, with from; non-peers and unknown peers are refused', async () => {
    const { url } = await startServer();
    const a = await join(url, 'A', [{ line: 'main' }]);
    const b = await join(url, 'B', [{ line: 'main' }]);
    const c = await join(url, 'C', [{ line: 'main' }]);
    const d = await join(url, 'D', [{ line: 'far' }]);

    a.send({ type: 'offer', to: 'B', sdp: 'v=0 offer', from: 'forged' });
    assert.deepEqual(await b.take('offer'), { type: 'offer', to: 'B', sdp: 'v=0 offer', from: 'A' });
    b.send({ type: 'answer', to: 'A', sdp: 'v=0 answer' });
    assert.deepEqual(await a.take('answer'), { type: 'answer', to: 'A', sdp: 'v=0 answer', from: 'B' });
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    a.send({ type: 'candidate', to: 'B', candidate });
    assert.deepEqual(await b.take('candidate'), { type: 'candidate', to: 'B', candidate, from: 'A' });
    a.send({ type: 'candidate', to: 'B', candidate: null });
    assert.deepEqual(await b.take('candidate'), { type: 'candidate', to: 'B', candidate: null, from: 'A' }, 'end-of-candidates');

    a.send({ type: 'offer', to: 'D', sdp: 'v=0' });
    assert.deepEqual(await a.take('error'), { type: 'error', code: 'not-a-peer', message: 'station D shares no line with you', field: 'to', ref: 'offer' });
    a.send({ type: 'answer', to: 'nobody', sdp: 'v=0' });
    const unknown = await a.take('error');
    assert.equal(unknown.code, 'unknown-peer');
    assert.equal(unknown.field, 'to');

    for (const p of [c, d]) await p.settle();
    assert.deepEqual(c.traffic.map((m) => m.type), ['joined'], 'C, on the line but not addressed, saw no relayed traffic');
    assert.deepEqual(d.traffic.map((m) => m.type), ['joined']);
  });

  test('bad messages get a named error, the sender stays connected, and a third client receives nothing extra', async () => {
    const { url } = await startServer({ lines: { main: 'm41n' } });
    const sender = await join(url, 'S', [{ line: 'main', secret: 'm41n' }]);
    const observer = await join(url, 'O', [{ line: 'main', secret: 'm41n' }]);
    await sender.take('presence');
    await observer.settle();
    const observed = observer.received.length;

    const expectError = async (msg: unknown, code: string, field?: string) => {
      sender.send(msg);
      const error = await sender.take('error');
      assert.equal(error.code, code, `${JSON.stringify(msg).slice(0, 60)} -> ${error.message}`);
      assert.equal(error.field, field);
      assert.ok(error.message.length > 0);
    };
    await expectError('{"type": "offer", ', 'malformed');
    await expectError('[1, 2]', 'malformed');
    await expectError({ type: 'offer', to: 'O', sdp: 'x'.repeat(MAX_MESSAGE_BYTES) }, 'too-large');
    await expectError({ type: 'dance' }, 'unknown-type', 'type');
    await expectError({ type: 'talk', lines: [5] }, 'invalid', 'lines.0');
    await expectError({ type: 'offer', to: 'not an id!', sdp: 'v=0' }, 'invalid', 'to');
    await expectError({ type: 'lines', lines: [{ line: 'main', secret: 42 }] }, 'invalid', 'lines.0.secret');
    await expectError({ type: 'join', stationId: 'S', name: 'again', kind: 'station', lines: [], protocol: 1 }, 'already-joined');

    const intruder = await Probe.connect(url);
    probes.push(intruder);
    intruder.send({ type: 'offer', to: 'O', sdp: 'v=0' });
    assert.equal((await intruder.take('error')).code, 'not-joined');
    intruder.send({ type: 'join', stationId: 'I', name: 'Intruder', kind: 'browser', lines: [{ line: 'main', secret: 'guess' }], protocol: 1 });
    assert.deepEqual(await intruder.take('error'), {
      type: 'error',
      code: 'bad-secret',
      message: 'wrong or missing secret for line main',
      field: 'main',
      ref: 'join',
    });
    assert.deepEqual(await intruder.take('joined'), { type: 'joined', stationId: 'I', lines: [], peers: [] }, 'not admitted to main');
    intruder.send({ type: 'join', stationId: 'V', name: 'Future', kind: 'browser', lines: [], protocol: 2 });
    const version = await intruder.take('error');
    assert.equal(version.code, 'protocol-version');
    assert.equal(version.field, 'protocol');

    await sender.settle();
    await observer.settle();
    assert.deepEqual(observer.received.slice(observed), [{ type: 'pong', t: 2 }], 'the observer got its own pong and nothing else');
  });

  test('frames beyond maxPayload are refused by ws with close code 1009', async () => {
    const { url } = await startServer({ maxPayload: MAX_MESSAGE_BYTES * 2 });
    const sender = await join(url, 'S', [{ line: 'main' }]);
    sender.send('x'.repeat(MAX_MESSAGE_BYTES * 2 + 1));
    assert.equal((await sender.closed).code, 1009);
  });

  test('repeated abuse closes the socket with 1008, peers hear bye', async () => {
    const { url } = await startServer({ abuse: { maxStrikes: 5, windowMs: 60_000 } });
    const abuser = await join(url, 'X', [{ line: 'main' }]);
    const peer = await join(url, 'P', [{ line: 'main' }]);
    for (let i = 0; i < 6; i++) abuser.send('not json');
    assert.deepEqual(await abuser.closed, { code: 1008, reason: 'too many bad messages' });
    assert.equal(abuser.received.filter((m) => m.type === 'error' && m.code === 'malformed').length, 6);
    assert.deepEqual(await peer.take('bye'), { type: 'bye', from: 'X' });
  });

  test('a sender over its rate gets rate-limited for the dropped message and stays connected', async () => {
    // A refill this slow adds nothing within the test, so exactly `burst` messages pass.
    const { url } = await startServer({ rateLimit: { burst: 3, perSecond: 0.001 } });
    const sender = await join(url, 'S', [{ line: 'main' }]);
    for (let t = 1; t <= 3; t++) sender.send({ type: 'ping', t });
    assert.deepEqual(await sender.take('error'), { type: 'error', code: 'rate-limited', message: 'too many messages; slow down' });
    assert.deepEqual(sender.received.map((m) => m.type), ['joined', 'pong', 'pong', 'error'], 'the join took the first token');
    assert.equal(sender.ws.readyState, WebSocket.OPEN);
  });

  test('duplicate station id: refused while the holder is alive, taken over when its socket is dead', async () => {
    // The takeover probe waits min(heartbeatMs, 2 s) for a pong: long enough that the heartbeat cannot drop the zombie first.
    const { server, url } = await startServer({ heartbeatMs: 1000 });
    const departures: string[] = [];
    server.on('left', ({ stationId, reason }) => departures.push(`${stationId}:${reason}`));
    const peer = await join(url, 'P', [{ line: 'main' }]);
    await join(url, 'A', [{ line: 'main' }]);
    const twin = await Probe.connect(url);
    probes.push(twin);
    twin.send({ type: 'join', stationId: 'A', name: 'Twin', kind: 'station', lines: [{ line: 'main' }], protocol: 1 });
    const refused = await twin.take('error');
    assert.equal(refused.code, 'duplicate-station');
    assert.equal(refused.field, 'stationId');

    // A socket that never answers pings looks exactly like a half-open connection.
    const zombie = await join(url, 'Z', [{ line: 'main' }], { autoPong: false });
    await peer.take('presence', (m) => m.peers.some((p) => p.stationId === 'Z'));
    const heir = await Probe.connect(url);
    probes.push(heir);
    heir.send({ type: 'join', stationId: 'Z', name: 'Heir', kind: 'station', lines: [{ line: 'main' }], protocol: 1 });
    assert.equal((await heir.take('joined')).stationId, 'Z');
    assert.deepEqual(await peer.take('bye'), { type: 'bye', from: 'Z' });
    await peer.take('presence', (m) => m.peers.some((p) => p.stationId === 'Z' && p.name === 'Heir'));
    await zombie.closed;
    assert.deepEqual(departures, ['Z:replaced']);
  });

  test("a join with the holder's resume token is that client back: it takes over without a probe; another token is refused", async () => {
    const { url } = await startServer();
    const peer = await join(url, 'P', [{ line: 'main' }]);
    const token = 'a'.repeat(32);
    const first = await Probe.connect(url);
    probes.push(first);
    first.send({ type: 'join', stationId: 'R', name: 'Roamer', kind: 'station', lines: [{ line: 'main' }], protocol: 1, resume: token });
    await first.take('joined');
    // The old socket still answers pings (half-open sockets can, for a while): a probe would refuse the newcomer.
    const stranger = await Probe.connect(url);
    probes.push(stranger);
    stranger.send({ type: 'join', stationId: 'R', name: 'Stranger', kind: 'station', lines: [{ line: 'main' }], protocol: 1, resume: 'b'.repeat(32) });
    assert.equal((await stranger.take('error')).code, 'duplicate-station');
    const back = await Probe.connect(url);
    probes.push(back);
    back.send({ type: 'join', stationId: 'R', name: 'Roamer', kind: 'station', lines: [{ line: 'main' }], protocol: 1, resume: token });
    assert.equal((await back.take('joined')).stationId, 'R');
    assert.deepEqual(await peer.take('bye'), { type: 'bye', from: 'R' });
    await first.closed;
    const short = await Probe.connect(url);
    probes.push(short);
    short.send({ type: 'join', stationId: 'S', name: 'Short', kind: 'station', lines: [{ line: 'main' }], protocol: 1, resume: 'abc' });
    const invalid = await short.take('error');
    assert.equal(invalid.field, 'resume');
  });

  test('a text frame that is not valid UTF-8 is answered with malformed and the sender stays connected', async () => {
    const { url } = await startServer();
    const sender = await join(url, 'S', [{ line: 'main' }]);
    // {"type":"ping","t":1} with one byte that is no UTF-8: ws would close with 1007 on its own.
    const bytes = Buffer.from('{"type":"ping","t":1}');
    bytes[9] = 0xff;
    sender.ws.send(bytes, { binary: false });
    const answer = await Promise.race([sender.take('error'), sender.closed]);
    assert.deepEqual(answer, { type: 'error', code: 'malformed', message: 'a text frame must be valid UTF-8' }, 'answered, not closed');
    await sender.settle();
    assert.equal(sender.ws.readyState, WebSocket.OPEN);
  });

  /** P and a Z that never answers pings are on `main`; a new connection joins as Z, so its join waits on the probe. */
  async function takeOverDeadZ(url: string) {
    const peer = await join(url, 'P', [{ line: 'main' }]);
    await join(url, 'Z', [{ line: 'main' }], { autoPong: false });
    await peer.take('presence', (m) => m.peers.some((p) => p.stationId === 'Z'));
    const flooder = await Probe.connect(url);
    probes.push(flooder);
    flooder.send({ type: 'join', stationId: 'Z', name: 'Flooder', kind: 'station', lines: [{ line: 'main' }], protocol: PROTOCOL_VERSION });
    return { peer, flooder };
  }

  test('frames sent while a join waits on its takeover probe: a bounded backlog, the rest refused in order, nothing unanswered', async (t) => {
    // Generous rate and abuse limits, so only the backlog bound refuses anything here.
    const { url } = await startServer({ rateLimit: { burst: 10_000, perSecond: 1 }, abuse: { maxStrikes: 10_000, windowMs: 60_000 } });
    // The join waits for Z's old socket to answer a ping (it never does); everything below arrives meanwhile.
    const { peer, flooder } = await takeOverDeadZ(url);
    const sent = 500;
    const base = 10_000; // clear of the t values settle() uses
    for (let i = 1; i <= sent; i++) flooder.send({ type: 'ping', t: base + i });

    // Meanwhile a well-behaved station joins at once: one connection's pending join holds up no other.
    const bystander = await join(url, 'W', [{ line: 'main' }]);
    assert.deepEqual((bystander.received[0] as { peers: { stationId: string }[] }).peers.map((p) => p.stationId), ['P', 'Z']);

    assert.equal((await flooder.take('joined')).stationId, 'Z');
    await flooder.settle();
    const replies = flooder.received.slice(1).filter((m) => !(m.type === 'pong' && m.t < base));
    assert.equal(replies.length, sent, 'every frame is answered once: nothing is lost in silence');
    const pongs = replies.filter((m) => m.type === 'pong');
    const refused = replies.filter((m) => m.type === 'error');
    t.diagnostic(`${pongs.length} waited, ${refused.length} refused`);
    assert.deepEqual(
      pongs.map((m) => m.t),
      Array.from({ length: MAX_BACKLOG_FRAMES }, (_, i) => base + i + 1),
      `only ${MAX_BACKLOG_FRAMES} frames waited for the join, and were answered in order`,
    );
    assert.equal(refused.length, sent - MAX_BACKLOG_FRAMES);
    assert.deepEqual(replies.slice(0, MAX_BACKLOG_FRAMES).map((m) => m.type), Array(MAX_BACKLOG_FRAMES).fill('pong'), 'answered in the order sent');
    for (const e of refused) {
      assert.equal(e.code, 'rate-limited');
      assert.match(e.message as string, /join is still being checked and 32 messages .* already wait/);
    }
    assert.equal(flooder.ws.readyState, WebSocket.OPEN);
    assert.deepEqual(await peer.take('bye'), { type: 'bye', from: 'Z' }, 'the dead Z was replaced');
  });

  test('a flood during the takeover probe is cut off with 1008 under the default limits; a pipelined join still takes over', async () => {
    const { server, url } = await startServer();
    const departures: string[] = [];
    server.on('left', ({ stationId, reason }) => departures.push(`${stationId}:${reason}`));
    const { peer, flooder } = await takeOverDeadZ(url);
    const frame = { type: 'offer', to: 'P', sdp: 'v=0\r\n'.repeat(10_000) };
    for (let i = 0; i < 100; i++) flooder.send(frame);
    // (Were the flood kept until the join settled, the join would be answered instead: no hang either way.)
    const outcome = await Promise.race([flooder.closed, flooder.take('joined')]);
    assert.deepEqual(outcome, { code: 1008, reason: 'too many bad messages' });
    assert.deepEqual(flooder.received, [], 'closed before its join was settled: nothing was answered, nothing was kept');

    // A well-behaved client sends its join and, without waiting, its talk state and a ping: answered in order.
    const heir = await Probe.connect(url);
    probes.push(heir);
    heir.send({ type: 'join', stationId: 'Z', name: 'Heir', kind: 'station', lines: [{ line: 'main' }], protocol: PROTOCOL_VERSION });
    heir.send({ type: 'talk', lines: ['main'] });
    heir.send({ type: 'ping', t: 7 });
    await heir.take('pong', (m) => m.t === 7);
    assert.deepEqual(heir.received.map((m) => m.type), ['joined', 'pong']);
    assert.deepEqual(await peer.take('talk'), { type: 'talk', lines: ['main'], from: 'Z' });
    assert.equal(peer.received.filter((m) => m.type === 'offer').length, 0, 'none of the flood was relayed');
    assert.deepEqual(departures, ['Z:replaced']);
  });

  test('bye: a station that leaves hangs up on each peer (to names it); a dropped or silent socket is only gone (no to)', async () => {
    const { url } = await startServer({ heartbeatMs: 100 });
    const peer = await join(url, 'P', [{ line: 'main' }]);

    const leaver = await join(url, 'L', [{ line: 'main' }]);
    leaver.send({ type: 'bye' });
    assert.deepEqual(await peer.take('bye'), { type: 'bye', from: 'L', to: 'P' });
    assert.deepEqual(await peer.take('presence', (m) => m.peers.length === 0), { type: 'presence', peers: [] });
    leaver.send({ type: 'offer', to: 'P', sdp: 'v=0' });
    assert.equal((await leaver.take('error')).code, 'not-joined', 'after bye the station is out of every line');

    const dropped = await join(url, 'D', [{ line: 'main' }]);
    dropped.ws.terminate();
    assert.deepEqual(await peer.take('bye'), { type: 'bye', from: 'D' });

    const silent = await join(url, 'Q', [{ line: 'main' }], { autoPong: false });
    assert.deepEqual(await peer.take('bye'), { type: 'bye', from: 'Q' });
    await silent.closed;

    const other = await join(url, 'O', [{ line: 'main' }]);
    peer.send({ type: 'bye', to: 'O' });
    assert.deepEqual(await other.take('bye'), { type: 'bye', to: 'O', from: 'P' }, 'bye to one peer is relayed to that peer');
  });

  test('a page from a foreign origin is refused at the upgrade; the same origin and clients without Origin join', async () => {
    const { url, port } = await startServer();
    const refusal = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { Origin: 'https://evil.example' } });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => reject(new Error('a foreign origin was let in')));
      ws.once('error', () => undefined);
    });
    assert.equal(refusal, 403);
    for (const origin of ['null', 'http://127.0.0.1.evil.example', `http://127.0.0.1:${port + 1}`]) {
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers: { Origin: origin } });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => resolve(101));
        ws.once('error', () => undefined);
      });
      assert.equal(status, 403, origin);
    }
    // The guest page the server itself serves is same-origin.
    const guest = await Probe.connect(url, { headers: { Origin: `http://127.0.0.1:${port}` } });
    probes.push(guest);
    guest.send({ type: 'join', stationId: 'guest', name: 'Guest', kind: 'browser', lines: [{ line: 'main' }], protocol: PROTOCOL_VERSION });
    assert.deepEqual((await guest.take('joined')).lines, ['main']);
    await join(url, 'station', [{ line: 'main' }]);
    assert.deepEqual((await guest.take('presence')).peers.map((p) => p.stationId), ['station']);
  });

  test('a line name with spaces joins, is talked on and is reported back as given', async () => {
    const { url } = await startServer({ lines: { 'Stage Left': 'sl' } });
    const a = await join(url, 'a', [{ line: 'Stage Left', secret: 'sl' }]);
    const b = await join(url, 'b', [{ line: 'Stage Left', secret: 'sl' }]);
    a.send({ type: 'talk', lines: ['Stage Left'] });
    assert.deepEqual((await b.take('talk')).lines, ['Stage Left']);
  });

  test('changing lines: admitted lines come back in joined, stations that no longer share a line exchange bye', async () => {
    const { url } = await startServer({ lines: { secret: 'pw' } });
    const a = await join(url, 'A', [{ line: 'main' }]);
    const b = await join(url, 'B', [{ line: 'main' }]);
    a.send({ type: 'lines', lines: [{ line: 'aux' }, { line: 'secret', secret: 'nope' }] });
    assert.equal((await a.take('error')).field, 'secret');
    assert.deepEqual(await a.take('joined'), { type: 'joined', stationId: 'A', lines: ['aux'], peers: [] });
    assert.deepEqual(await a.take('bye'), { type: 'bye', from: 'B', to: 'A' });
    assert.deepEqual(await b.take('bye'), { type: 'bye', from: 'A', to: 'B' });
    assert.deepEqual(await b.take('presence', (m) => m.peers.length === 0), { type: 'presence', peers: [] });
  });

  test('a call flashes at every member of its line (caller included) until one answers; other lines hear nothing', async () => {
    const { url } = await startServer();
    const a = await join(url, 'A', [{ line: 'main' }, { line: 'aux' }]);
    const b = await join(url, 'B', [{ line: 'main' }]);
    const c = await join(url, 'C', [{ line: 'aux' }]);
    a.send({ type: 'call', line: 'main', on: true });
    const started = { type: 'call', line: 'main', on: true, from: 'A', name: 'Station A' };
    assert.deepEqual(await b.take('call'), started);
    assert.deepEqual(await a.take('call'), started);
    b.send({ type: 'call', line: 'main', on: false });
    const answered = { ...started, on: false, reason: 'answered', by: { stationId: 'B', name: 'Station B' } };
    assert.deepEqual(await a.take('call'), answered);
    assert.deepEqual(await b.take('call'), answered);
    // Answering again, with nothing flashing, does nothing.
    b.send({ type: 'call', line: 'main', on: false });
    await Promise.all([a.settle(), b.settle(), c.settle()]);
    assert.equal(c.traffic.filter((m) => m.type === 'call').length, 0, 'a member of another line only');
    assert.equal(b.traffic.filter((m) => m.type === 'call').length, 2);
  });

  test('private talk reaches its target only, with from; a station sharing no line is refused naming the field', async () => {
    const { url } = await startServer();
    const a = await join(url, 'A', [{ line: 'main' }]);
    const b = await join(url, 'B', [{ line: 'main' }]);
    const c = await join(url, 'C', [{ line: 'main' }]);
    const d = await join(url, 'D', [{ line: 'aux' }]);
    a.send({ type: 'direct', to: 'B', on: true });
    assert.deepEqual(await b.take('direct'), { type: 'direct', to: 'B', on: true, from: 'A' });
    a.send({ type: 'direct', to: 'D', on: true });
    const error = await a.take('error');
    assert.deepEqual([error.code, error.field, error.ref], ['not-a-peer', 'to', 'direct']);
    await Promise.all([c.settle(), d.settle()]);
    assert.equal([...c.traffic, ...d.traffic].filter((m) => m.type === 'direct').length, 0, 'nobody else learns of it');
  });

  test('a call on a line the station is not on is refused naming the field; nothing is relayed', async () => {
    const { url } = await startServer();
    const a = await join(url, 'A', [{ line: 'main' }]);
    const b = await join(url, 'B', [{ line: 'main' }, { line: 'aux' }]);
    a.send({ type: 'call', line: 'aux', on: true });
    const error = await a.take('error');
    assert.equal(error.code, 'invalid');
    assert.equal(error.field, 'line');
    assert.equal(error.ref, 'call');
    await b.settle();
    assert.equal(b.traffic.filter((m) => m.type === 'call').length, 0);
  });

  test('an unanswered call ends by timeout at every member; one whose caller leaves ends as left; a newcomer sees a call in progress', async () => {
    const { url } = await startServer({ callTimeoutMs: 300 });
    const a = await join(url, 'A', [{ line: 'main' }]);
    const b = await join(url, 'B', [{ line: 'main' }]);
    a.send({ type: 'call', line: 'main', on: true });
    await b.take('call', (m) => m.on);
    const at = Date.now();
    assert.deepEqual(await b.take('call', (m) => !m.on), { type: 'call', line: 'main', on: false, from: 'A', name: 'Station A', reason: 'timeout' });
    assert.ok(Date.now() - at >= 250, 'it flashed for its timeout');
    await a.take('call', (m) => !m.on && m.reason === 'timeout');

    b.send({ type: 'call', line: 'main', on: true });
    await a.take('call', (m) => m.on);
    const c = await join(url, 'C', [{ line: 'main' }]);
    assert.deepEqual(await c.take('call'), { type: 'call', line: 'main', on: true, from: 'B', name: 'Station B' });
    b.close();
    assert.deepEqual(await a.take('call', (m) => !m.on), { type: 'call', line: 'main', on: false, from: 'B', name: 'Station B', reason: 'left' });
    assert.equal((await c.take('call', (m) => !m.on)).reason, 'left');
  });
});

describe('signalling client', () => {
  test('rejects bad input naming the field', async () => {
    assert.throws(
      () => new SignallingClient({ url: 'ws://127.0.0.1:9/', stationId: 'has space', name: 'x', kind: 'station', lines: [] }),
      (e: unknown) => e instanceof SignallingSendError && e.code === 'invalid' && e.field === 'stationId',
    );
    const { url } = await startServer();
    const client = new SignallingClient({ url, stationId: 'A', name: 'A', kind: 'station', lines: [{ line: 'main' }] });
    try {
      await waitForState(client, 'joined');
      assert.throws(
        () => client.send({ type: 'candidate', to: 'B', candidate: { candidate: 'c', sdpMLineIndex: -1 } }),
        (e: unknown) => e instanceof SignallingSendError && e.field === 'candidate.sdpMLineIndex',
      );
      assert.throws(
        () => client.setTalking(['main', 'main']),
        (e: unknown) => e instanceof SignallingSendError && e.field === 'lines.1',
      );
    } finally {
      await client.close();
    }
  });

  test('a probe asks the server for a sign of life at once: its answer is heard after the probe, not before', async () => {
    const { url } = await startServer();
    const client = new SignallingClient({ url, stationId: 'A', name: 'A', kind: 'station', lines: [{ line: 'main' }], keepaliveMs: 60_000 });
    try {
      await waitForState(client, 'joined');
      await new Promise((r) => setTimeout(r, 20));
      const before = performance.now();
      assert.equal(client.heardSince(before), false, 'nothing heard since');
      client.probe();
      const deadline = performance.now() + 2000;
      while (!client.heardSince(before) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(client.heardSince(before), true, 'the server answered the probe long before the next keepalive');
    } finally {
      await client.close();
    }
    assert.equal(client.heardSince(0), false, 'a closed client has heard nothing it can vouch for');
  });

  test('reconnects after the server restarts on the same port and rejoins its lines and talk state', async () => {
    const first = await startServer();
    const backoff = { initialMs: 20, maxMs: 100, factor: 2, jitter: 0.2 };
    const talker = new SignallingClient({ url: first.url, stationId: 'T', name: 'Talker', kind: 'station', lines: [{ line: 'main' }], backoff });
    const listener = new SignallingClient({ url: first.url, stationId: 'L', name: 'Listener', kind: 'station', lines: [{ line: 'main' }], backoff });
    const states: SignallingClientState[] = [];
    talker.on('state', (s) => states.push(s));
    try {
      await Promise.all([waitForState(talker, 'joined'), waitForState(listener, 'joined')]);
      talker.setTalking(['main']);
      await new Promise<void>((resolve) =>
        listener.on('presence', (m) => {
          if (m.peers.some((p) => p.stationId === 'T' && p.talking.includes('main'))) resolve();
        }),
      );

      const dropped = waitForState(talker, 'reconnecting');
      await first.server.close();
      await dropped;
      const second = await startServer({ port: first.port });
      assert.equal(second.port, first.port);

      const seen = await new Promise<{ stationId: string; talking: string[] }>((resolve) => {
        const check = (peers: { stationId: string; talking: string[] }[]) => {
          const t = peers.find((p) => p.stationId === 'T' && p.talking.includes('main'));
          if (t) resolve(t);
        };
        listener.on('joined', (m) => check(m.peers));
        listener.on('presence', (m) => check(m.peers));
      });
      assert.deepEqual(seen, { stationId: 'T', name: 'Talker', kind: 'station', lines: ['main'], talking: ['main'] });
      // T is listed talking as it joins, which the listener may hear before T hears its own `joined`.
      if (talker.state !== 'joined') await waitForState(talker, 'joined');
      assert.deepEqual(states.slice(0, 3), ['connecting', 'joined', 'reconnecting']);
      assert.equal(states.at(-1), 'joined');
    } finally {
      await Promise.all([talker.close(), listener.close()]);
    }
    assert.equal(talker.state, 'closed');
  });

  test('a talker back after a server restart is listed talking from its first presence, never muted while its talk is on the way', async () => {
    const first = await startServer();
    // The listener is back first, so the talker's return reaches it as a change of presence.
    const talker = new SignallingClient({ url: first.url, stationId: 'T', name: 'Talker', kind: 'station', lines: [{ line: 'main' }, { line: 'aux' }], backoff: { initialMs: 400, maxMs: 400, factor: 1, jitter: 0 } });
    const listener = new SignallingClient({ url: first.url, stationId: 'L', name: 'Listener', kind: 'station', lines: [{ line: 'main' }], backoff: { initialMs: 20, maxMs: 20, factor: 1, jitter: 0 } });
    try {
      await Promise.all([waitForState(talker, 'joined'), waitForState(listener, 'joined')]);
      talker.setTalking(['main', 'aux']);
      await new Promise<void>((resolve) => listener.on('presence', (m) => m.peers.some((p) => p.stationId === 'T' && p.talking.length > 0) && resolve()));
      await first.server.close();
      await waitForState(talker, 'reconnecting');
      // Every listing of T the listener gets once the server is back, until T is listed talking.
      const listings: string[][] = [];
      const talking = new Promise<void>((resolve) => {
        const check = (peers: { stationId: string; talking: string[] }[]) => {
          const t = peers.find((p) => p.stationId === 'T');
          if (!t) return;
          listings.push(t.talking);
          if (t.talking.length > 0) resolve();
        };
        listener.on('joined', (m) => check(m.peers));
        listener.on('presence', (m) => check(m.peers));
      });
      await startServer({ port: first.port });
      await talking;
      assert.deepEqual(listings, [['main']], 'T listed talking on the line they share from its first listing (never talking: [])');
    } finally {
      await Promise.all([talker.close(), listener.close()]);
    }
  });

  test('a server gone silent (its link down) is tried again every second, not after a 3 s timeout and a backoff', async () => {
    const first = await startServer();
    // The default backoff: what a station runs with.
    const client = new SignallingClient({ url: first.url, stationId: 'T', name: 'Talker', kind: 'station', lines: [{ line: 'main' }] });
    const attempts: number[] = [];
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      attempts.push(performance.now());
      sockets.push(socket);
      socket.on('error', () => {});
    });
    try {
      await waitForState(client, 'joined');
      const dropped = waitForState(client, 'reconnecting');
      await first.server.close();
      await dropped;
      // The port answers TCP but never the WebSocket upgrade: as a SYN into a dead link, the attempt just waits.
      await new Promise<void>((resolve) => silent.listen(first.port, '127.0.0.1', resolve));
      await sleep(4500);
      const gaps = attempts.slice(1).map((at, i) => Math.round(at - (attempts[i] as number)));
      assert.ok(attempts.length >= 3, `attempts in 4.5 s: ${attempts.length} (gaps ${gaps.join(', ')} ms)`);
      // Each attempt is given its full 1 s (four times a loopback handshake, at least 1 s) before the next.
      assert.ok(gaps.every((g) => g >= 900), `no attempt given up before its 1 s: gaps ${gaps.join(', ')} ms`);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      const rejoined = waitForState(client, 'joined');
      await startServer({ port: first.port });
      await rejoined;
    } finally {
      for (const socket of sockets) socket.destroy();
      if (silent.listening) silent.close();
      await client.close();
    }
  });

  test('connect timeout: 3 s before any connection, then four times the last one, within 0.5 to 3 s', () => {
    assert.equal(connectTimeoutMs(undefined), 3000);
    assert.equal(connectTimeoutMs(1), 500);
    assert.equal(connectTimeoutMs(400), 1600);
    assert.equal(connectTimeoutMs(2000), 3000);
  });

  test('handshake timeout: 3 s before any handshake, then four times the last one, within 1 to 3 s', () => {
    assert.equal(handshakeTimeoutMs(undefined), 3000);
    assert.equal(handshakeTimeoutMs(2), 1000);
    assert.equal(handshakeTimeoutMs(400), 1600);
    assert.equal(handshakeTimeoutMs(2000), 3000);
  });

  test('close() says bye to peers; relayed messages surface as typed events', async () => {
    const { url } = await startServer();
    const peer = await join(url, 'P', [{ line: 'main' }]);
    const client = new SignallingClient({ url, stationId: 'C', name: 'Client', kind: 'browser', lines: [{ line: 'main' }] });
    await waitForState(client, 'joined');
    const offer = new Promise((resolve) => client.once('offer', resolve));
    peer.send({ type: 'offer', to: 'C', sdp: 'v=0' });
    assert.deepEqual(await offer, { type: 'offer', to: 'C', sdp: 'v=0', from: 'P' });
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    client.send({ type: 'answer', to: 'nobody', sdp: 'v=0' });
    await new Promise<void>((resolve) => client.once('error', () => resolve()));
    assert.deepEqual(errors, ['unknown-peer']);

    await client.close();
    assert.deepEqual(await peer.take('bye'), { type: 'bye', from: 'C', to: 'P' });
    assert.throws(() => client.send({ type: 'offer', to: 'P', sdp: 'v=0' }), (e: unknown) => e instanceof SignallingSendError && e.code === 'not-joined');
  });
});

describe('static files', () => {
  test('serves the directory with content types and refuses to leave it', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'partyline-static-'));
    const site = path.join(root, 'site');
    await mkdir(site);
    await writeFile(path.join(site, 'index.html'), '<!doctype html><title>guest</title>');
    await writeFile(path.join(site, 'guest.js'), 'export {};');
    await writeFile(path.join(root, 'private.txt'), 'secret');
    const { port } = await startServer({ staticDir: site });
    const get = (p: string, method = 'GET') =>
      new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: p, method }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      assert.deepEqual(await get('/'), { status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><title>guest</title>' });
      assert.deepEqual(await get('/guest.js'), { status: 200, type: 'text/javascript; charset=utf-8', body: 'export {};' });
      for (const escape of ['/../private.txt', '/%2e%2e/private.txt', '/..%2fprivate.txt', '/%2e%2e%5cprivate.txt']) {
        const res = await get(escape);
        assert.equal(res.status, 404, escape);
        assert.doesNotMatch(res.body, /secret/);
      }
      assert.equal((await get('/missing.css')).status, 404);
      assert.equal((await get('/', 'POST')).status, 405);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
