/**
 * The signalling server's control plane at scale: presence as deltas (a member keeps a correct picture through a
 * burst of joins, departures and reconnections, and a join costs each member one small delta), and the limits per
 * line and per address with their error codes, also as `npm run signal` flags.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { PresenceRoster } from '../electron/common/presence-roster';
import { PROTOCOL_VERSION, type Presence, type ServerMessage } from '../electron/common/signalling-protocol';
import { SignallingClient } from '../electron/signalling/client';
import { SignallingServer, type SignallingServerOptions } from '../electron/signalling/server';

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A bare ws client recording every server message. */
class Probe {
  readonly received: ServerMessage[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly takenUpTo = new Map<string, number>();
  private pings = 0;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as ServerMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, options: { autoPong?: boolean } = {}): Promise<Probe> {
    const ws = new WebSocket(url, options);
    const probe = new Probe(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return probe;
  }

  join(stationId: string, lines: string[], presence?: 'full' | 'delta', name = `Station ${stationId}`): void {
    this.send({ type: 'join', stationId, name, kind: 'station', lines: lines.map((line) => ({ line })), protocol: PROTOCOL_VERSION, ...(presence ? { presence } : {}) });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** The next message of this type not taken yet, in arrival order. */
  async take<T extends ServerMessage['type']>(type: T): Promise<Of<T>> {
    for (;;) {
      const from = this.takenUpTo.get(type) ?? 0;
      const index = this.received.findIndex((m, i) => i >= from && m.type === type);
      if (index >= 0) {
        this.takenUpTo.set(type, index + 1);
        return this.received[index] as Of<T>;
      }
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  /** Everything the server sent before answering this ping has arrived (presence goes out before the pong). */
  async settle(): Promise<void> {
    const t = ++this.pings;
    this.send({ type: 'ping', t });
    for (;;) {
      const pong = await this.take('pong');
      if (pong.t === t) return;
    }
  }

  of<T extends ServerMessage['type']>(type: T): Of<T>[] {
    return this.received.filter((m): m is Of<T> => m.type === type);
  }
}

const servers: SignallingServer[] = [];
const probes: Probe[] = [];
after(async () => {
  for (const p of probes) p.ws.terminate();
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(options: Partial<SignallingServerOptions> = {}): Promise<string> {
  const server = new SignallingServer({ port: 0, ...options });
  servers.push(server);
  return (await server.start()).url;
}

async function joined(url: string, id: string, lines: string[], presence?: 'full' | 'delta', options: { autoPong?: boolean } = {}): Promise<Probe> {
  const p = await Probe.connect(url, options);
  probes.push(p);
  p.join(id, lines, presence);
  await p.take('joined');
  return p;
}

/** What a delta client knows: its last joined snapshot with every delta since applied. */
function rosterOf(p: Probe): Presence[] {
  const roster = new PresenceRoster();
  for (const m of p.received) {
    if (m.type === 'joined') roster.replace(m.peers);
    if (m.type === 'presence-delta') roster.apply(m);
  }
  return roster.list();
}

function lastFullList(p: Probe): Presence[] {
  const lists = [...p.of('joined'), ...p.of('presence')];
  const last = p.received.filter((m) => m.type === 'joined' || m.type === 'presence').at(-1) as Of<'presence'> | Of<'joined'> | undefined;
  assert.ok(last && lists.length > 0, 'a full client got at least its joined');
  return last.peers;
}

describe('presence deltas', () => {
  test('a member keeps the right picture through a burst of joins, departures and reconnections', async () => {
    const url = await serve({ heartbeatMs: 1000 });
    const watcher = await joined(url, 'watch', ['main'], 'delta');
    const legacy = await joined(url, 'legacy', ['main']);
    const station = new SignallingClient({ url, stationId: 'client', name: 'Client', kind: 'station', lines: [{ line: 'main' }], keepaliveMs: 0 });
    let stationView: Presence[] = [];
    station.on('joined', (m) => (stationView = m.peers));
    station.on('presence', (m) => (stationView = m.peers));
    await new Promise<void>((resolve) => station.once('joined', () => resolve()));

    // 30 stations join at once; none waits for another.
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => Probe.connect(url, { autoPong: i !== 29 })));
    probes.push(...burst);
    burst.forEach((p, i) => p.join(`s${String(i).padStart(2, '0')}`, i % 3 === 0 ? ['main', 'aux'] : ['main'], i % 2 ? 'delta' : undefined));
    await Promise.all(burst.map((p) => p.take('joined')));

    // Departures: five say bye, five drop their sockets; one moves to another line; one talks.
    for (const p of burst.slice(0, 5)) p.send({ type: 'bye' });
    const dropped = burst.slice(5, 10);
    for (const p of dropped) p.ws.terminate();
    burst[10]?.send({ type: 'lines', lines: [{ line: 'aux' }] });
    burst[11]?.send({ type: 'talk', lines: ['main'] });
    await Promise.all(dropped.map((p) => p.closed));
    // Reconnections: two dropped stations come back; s29 comes back while its old socket still looks open (it does
    // not answer pings), so the server probes, replaces it and keeps it on the line under its new name.
    const back = await Promise.all(['s05', 's06'].map((id) => joined(url, id, ['main'], 'delta')));
    const heir = await Probe.connect(url);
    probes.push(heir);
    heir.join('s29', ['main'], 'delta', 'Heir');
    await heir.take('joined');
    await Promise.all([watcher.settle(), legacy.settle(), ...back.map((p) => p.settle())]);

    const expected = ['client', 'legacy', 's05', 's06', ...Array.from({ length: 19 }, (_, i) => `s${String(i + 11).padStart(2, '0')}`)];
    const ids = (list: Presence[]) => list.map((p) => p.stationId);
    const seen = rosterOf(watcher);
    assert.deepEqual(ids(seen), expected);
    assert.equal(seen.find((p) => p.stationId === 's29')?.name, 'Heir');
    assert.deepEqual(seen.find((p) => p.stationId === 's11')?.talking, ['main']);
    assert.deepEqual(seen.find((p) => p.stationId === 's12')?.lines, ['main'], 'a peer shows only the lines it shares with the receiver');
    // Everyone but the receiver itself: compare the others' views without their own entries.
    const without = (list: Presence[], ...gone: string[]) => list.filter((p) => !gone.includes(p.stationId));
    assert.deepEqual(without(lastFullList(legacy), 'watch'), without(seen, 'legacy'), 'a client that asked for no deltas sees the same through complete lists');
    assert.equal(watcher.of('presence').length, 0, 'a delta client gets no complete lists');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(without(stationView, 'watch'), without(seen, 'client'), 'SignallingClient turns deltas back into complete lists');
    // A station that came back mid-way starts from its snapshot and sees the same.
    assert.deepEqual(
      ids(rosterOf(back[0] as Probe)),
      [...expected.filter((id) => id !== 's05'), 'watch'].sort(),
    );
    await station.close();
  });

  test('a join costs each member one delta naming only the newcomer', async () => {
    const url = await serve();
    const members = await Promise.all(Array.from({ length: 20 }, (_, i) => joined(url, `m${i}`, ['main'], 'delta')));
    await Promise.all(members.map((m) => m.settle()));
    const before = members.map((m) => m.received.length);
    const newcomer = await joined(url, 'late', ['main'], 'delta');
    assert.equal(newcomer.of('joined')[0]?.peers.length, 20, 'the newcomer gets the full snapshot');
    await Promise.all(members.map((m) => m.settle()));
    for (const [i, m] of members.entries()) {
      const news = m.received.slice(before[i]).filter((x) => x.type !== 'pong');
      assert.deepEqual(news, [{ type: 'presence-delta', set: [{ stationId: 'late', name: 'Station late', kind: 'station', lines: ['main'], talking: [] }], gone: [] }]);
    }
    newcomer.send({ type: 'bye' });
    await Promise.all(members.map((m) => m.take('bye')));
    await Promise.all(members.map((m) => m.settle()));
    for (const m of members) assert.deepEqual(m.of('presence-delta').at(-1), { type: 'presence-delta', set: [], gone: ['late'] });
  });
});

describe('limits', () => {
  test('a full line refuses one more member with line-full naming the line; others are admitted', async () => {
    const url = await serve({ maxLineMembers: 3 });
    await Promise.all(['a', 'b', 'c'].map((id) => joined(url, id, ['main'])));
    const d = await Probe.connect(url);
    probes.push(d);
    d.join('d', ['main', 'aux']);
    const error = await d.take('error');
    assert.equal(error.code, 'line-full');
    assert.equal(error.field, 'main');
    assert.equal(error.ref, 'join');
    assert.deepEqual((await d.take('joined')).lines, ['aux']);
    d.send({ type: 'lines', lines: [{ line: 'aux' }, { line: 'main' }] });
    const again = await d.take('error');
    assert.deepEqual([again.code, again.field, again.ref], ['line-full', 'main', 'lines']);
    assert.deepEqual((await d.take('joined')).lines, ['aux']);
  });

  test('a member keeps its place on a full line through a lines change, and a place freed is taken', async () => {
    const url = await serve({ maxLineMembers: 2 });
    const a = await joined(url, 'a', ['main']);
    await joined(url, 'b', ['main']);
    a.send({ type: 'lines', lines: [{ line: 'main' }, { line: 'aux' }] });
    assert.deepEqual((await a.take('joined')).lines, ['main', 'aux']);
    assert.equal(a.of('error').length, 0);
    const c = await joined(url, 'c', ['aux']);
    c.send({ type: 'lines', lines: [{ line: 'aux' }, { line: 'main' }] });
    assert.equal((await c.take('error')).code, 'line-full');
    assert.deepEqual((await c.take('joined')).lines, ['aux']);
    a.send({ type: 'bye' });
    await a.settle();
    c.send({ type: 'lines', lines: [{ line: 'aux' }, { line: 'main' }] });
    assert.deepEqual((await c.take('joined')).lines, ['aux', 'main']);
  });

  test('one connection too many from an address gets too-many-connections and is closed with 1013', async () => {
    const url = await serve({ maxConnectionsPerAddress: 2 });
    const first = await joined(url, 'a', ['main']);
    await joined(url, 'b', ['main']);
    const third = await Probe.connect(url);
    const error = await third.take('error');
    assert.equal(error.code, 'too-many-connections');
    assert.match(error.message, /127\.0\.0\.1 already has 2 connections open; the limit is 2/);
    assert.equal((await third.closed).code, 1013);
    first.ws.close();
    await first.closed;
    // The server counts the closed socket out as soon as it sees the close.
    for (;;) {
      const next = await Probe.connect(url);
      probes.push(next);
      next.join('c', ['main']);
      const reply = await Promise.race([next.take('joined'), next.take('error')]);
      if (reply.type === 'joined') break;
      await next.closed;
    }
  });

  test('bad limits are refused naming the option', () => {
    assert.throws(() => new SignallingServer({ port: 0, maxLineMembers: 0 }), /maxLineMembers must be a positive integer/);
    assert.throws(() => new SignallingServer({ port: 0, maxConnectionsPerAddress: 1.5 }), /maxConnectionsPerAddress must be a positive integer/);
  });

  test('npm run signal takes both limits as flags and checks them', async () => {
    const root = path.join(__dirname, '..');
    const run = (args: string[]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/signal.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      return { child, output: () => out, exited: new Promise<number | null>((r) => child.on('exit', (code) => r(code))) };
    };
    const bad = run(['--port', '0', '--max-line-members', 'lots']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.output(), /--max-line-members must be a positive integer, got lots/);

    const good = run(['--port', '0', '--max-line-members', '1', '--max-connections-per-address', '2']);
    try {
      for (let i = 0; i < 200 && !/signalling on/.test(good.output()); i++) await new Promise((r) => setTimeout(r, 50));
      const m = /signalling on (\S+?);.*at most 1 members per line, 2 connections per address/.exec(good.output());
      assert.ok(m, good.output());
      const url = m[1] as string;
      await joined(url, 'a', ['main']);
      const b = await Probe.connect(url);
      probes.push(b);
      b.join('b', ['main']);
      assert.deepEqual([(await b.take('error')).code, (await b.take('joined')).lines], ['line-full', []]);
      const c = await Probe.connect(url);
      assert.equal((await c.take('error')).code, 'too-many-connections');
    } finally {
      good.child.kill('SIGTERM');
      await good.exited;
    }
  });
});
