// Large lines on Janus, the control plane alone (no audio): bad Janus configuration is refused naming the field,
// Janus unreachable or refusing leaves the line on the mesh with the reason, rooms follow the line's membership, and
// a line that grows past the threshold moves to Janus.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import { startJanus, freePort, type JanusProcess } from '../testkit/janus';
import { SignallingServer } from '../electron/signalling/server';
import { SignallingClient } from '../electron/signalling/client';
import { checkJanusConfig, JanusConfigError } from '../electron/signalling/janus/janus-rooms';
import { JanusSession, type JanusSocket } from '../electron/common/janus-client';
import { parseServerMessage, type LineCarrierMessage } from '../electron/common/signalling-protocol';

let janus: JanusProcess;
before(async () => {
  janus = await startJanus();
});
after(async () => {
  await janus?.stop();
});

const ROOT = path.join(__dirname, '..');
/** A SHA-256 fingerprint as openssl prints it. */
const PIN = Array.from({ length: 32 }, (_, i) => (i * 7 + 10).toString(16).toUpperCase().padStart(2, '0')).join(':');

function member(url: string, id: string, line = 'big'): { client: SignallingClient; carriers: LineCarrierMessage[]; next: (pred: (m: LineCarrierMessage) => boolean) => Promise<LineCarrierMessage> } {
  const client = new SignallingClient({ url, stationId: id, name: id, kind: 'station', lines: [{ line, secret: 's3cret' }], keepaliveMs: 0 });
  const carriers: LineCarrierMessage[] = [];
  client.on('line-carrier', (m) => carriers.push(m));
  const next = async (pred: (m: LineCarrierMessage) => boolean) => {
    for (let i = 0; i < 200; i++) {
      const m = carriers.find(pred);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${id}: no such line-carrier in ${JSON.stringify(carriers)}`);
  };
  return { client, carriers, next };
}

async function roomExists(room: number): Promise<boolean> {
  const s = await JanusSession.connect(janus.url, (u, p) => new WebSocket(u, p) as unknown as JanusSocket);
  try {
    const h = await s.attach('janus.plugin.videoroom');
    return (await h.request({ request: 'exists', room })).exists === true;
  } finally {
    await s.close();
  }
}

test('bad Janus configuration is refused with the field named', () => {
  const refused = (options: ConstructorParameters<typeof SignallingServer>[0]) => {
    try {
      new SignallingServer(options);
    } catch (e) {
      assert.ok(e instanceof JanusConfigError, String(e));
      return { field: e.field, message: e.message };
    }
    assert.fail('accepted');
  };
  assert.equal(refused({ port: 0, janusLines: ['big'] }).field, 'janus');
  assert.match(refused({ port: 0, janusLines: ['big'] }).message, /--janus ws:\/\/HOST:8188/);
  assert.equal(refused({ port: 0, janusAbove: 8 }).field, 'janus');
  assert.equal(refused({ port: 0, janus: { url: 'http://127.0.0.1:8188' }, janusLines: ['big'] }).field, 'janus.url');
  assert.equal(refused({ port: 0, janus: { url: 'not a url' } }).field, 'janus.url');
  assert.equal(refused({ port: 0, janus: { url: 'ws://127.0.0.1:8188', adminKey: '' } }).field, 'janus.adminKey');
  assert.equal(refused({ port: 0, janus: { url: 'ws://127.0.0.1:8188' }, janusAbove: 0 }).field, 'janusAbove');
  const badPin = refused({ port: 0, janus: { url: 'wss://127.0.0.1:8989', fingerprint: 'AB:CD' } });
  assert.equal(badPin.field, 'janus.fingerprint');
  assert.match(badPin.message, /"AB:CD": fingerprint must be a SHA-256 fingerprint/);
  const plainPin = refused({ port: 0, janus: { url: 'ws://127.0.0.1:8188', fingerprint: PIN } });
  assert.equal(plainPin.field, 'janus.fingerprint');
  assert.match(plainPin.message, /pins the certificate of a wss:\/\/ Janus, but janus\.url is "ws:\/\/127\.0\.0\.1:8188"/);
  assert.equal(checkJanusConfig({ url: 'wss://127.0.0.1:8989', fingerprint: ` ${PIN.toLowerCase()} ` }).fingerprint, PIN, 'a pin is kept as openssl prints it');
});

test("a line's Janus access carries the pin, checked like any fingerprint", () => {
  const carrier = (fingerprint: string) => JSON.stringify({ type: 'line-carrier', line: 'big', carrier: 'janus', janus: { url: 'wss://10.0.0.5:8989', room: 7, pin: 'p', fingerprint } });
  const ok = parseServerMessage(carrier(PIN.toLowerCase()));
  assert.ok(ok.ok && ok.msg.type === 'line-carrier');
  assert.equal(ok.msg.janus?.fingerprint, PIN);
  const bad = parseServerMessage(carrier('AB:CD'));
  assert.ok(!bad.ok);
  assert.match(bad.error.message, /fingerprint must be a SHA-256 fingerprint/);
});

test('npm run signal refuses a Janus line without --janus, and a --janus that is no ws:// URL, naming the option', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'electron/cli/signal.ts', '--port', '0', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  const noJanus = run('--line', 'big:s3cret:janus');
  assert.equal(noJanus.status, 2);
  assert.match(noJanus.stderr, /--line big:\.\.\.:janus needs --janus ws:\/\/HOST:8188/);
  const badUrl = run('--janus', 'http://127.0.0.1:8188', '--line', 'big:s3cret:janus');
  assert.equal(badUrl.status, 2);
  assert.match(badUrl.stderr, /--janus "http:\/\/127\.0\.0\.1:8188" must be a ws:\/\/ or wss:\/\/ URL/);
  const badAbove = run('--janus', 'ws://127.0.0.1:8188', '--janus-above', 'many');
  assert.equal(badAbove.status, 2);
  assert.match(badAbove.stderr, /--janus-above must be a whole number/);
  const lonePin = run('--janus-fingerprint', PIN);
  assert.equal(lonePin.status, 2);
  assert.match(lonePin.stderr, /--janus-fingerprint needs --janus wss:\/\/HOST:8989/);
});

test('Janus unreachable at start: the line stays on the mesh and says why; a wrong admin key names janus.adminKey', async () => {
  const nobody = await freePort();
  const down = new SignallingServer({ port: 0, lines: { big: 's3cret' }, janus: { url: `ws://127.0.0.1:${nobody}` }, janusLines: ['big'] });
  const wrongKey = new SignallingServer({ port: 0, lines: { big: 's3cret' }, janus: { url: janus.url, adminKey: 'not-the-key' }, janusLines: ['big'] });
  const clients: SignallingClient[] = [];
  try {
    const a = member((await down.start()).url, 'a');
    clients.push(a.client);
    const m = await a.next((c) => c.carrier === 'mesh');
    assert.match(m.janusError ?? '', /^Janus unavailable: cannot reach Janus at ws:\/\/127\.0\.0\.1:\d+/);
    assert.equal(down.lineCarrier('big'), 'mesh');

    const b = member((await wrongKey.start()).url, 'b');
    clients.push(b.client);
    const k = await b.next((c) => c.carrier === 'mesh');
    assert.match(k.janusError ?? '', /janus\.adminKey: Janus refused to create a room/);
  } finally {
    for (const c of clients) await c.close();
    await down.close();
    await wrongKey.close();
  }
});

test('a room per Janus line: members get its access before joined, it goes when the line empties; a line past janusAbove moves to Janus', async () => {
  const server = new SignallingServer({ port: 0, lines: { big: 's3cret', grows: 's3cret' }, janus: { url: janus.url, adminKey: janus.adminKey }, janusLines: ['big'], janusAbove: 2 });
  const { url } = await server.start();
  const clients: SignallingClient[] = [];
  try {
    const a = member(url, 'a');
    clients.push(a.client);
    const first = await a.next((c) => c.carrier === 'janus');
    assert.equal(first.janus?.url, janus.url);
    assert.ok(first.janus?.pin, 'the room has a pin');
    assert.ok(await roomExists(first.janus?.room ?? 0), 'the room exists on Janus');

    // A later member learns the room before its joined.
    const order: string[] = [];
    const b = member(url, 'b');
    clients.push(b.client);
    b.client.on('line-carrier', () => order.push('line-carrier'));
    b.client.on('joined', () => order.push('joined'));
    const seen = await b.next((c) => c.carrier === 'janus');
    assert.deepEqual(seen.janus, first.janus);
    assert.deepEqual(order.slice(0, 2), ['line-carrier', 'joined']);

    await a.client.close();
    await b.client.close();
    clients.length = 0;
    for (let i = 0; i < 100 && (await roomExists(first.janus?.room ?? 0)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await roomExists(first.janus?.room ?? 0), false, 'the room went with the last member');

    // `grows` is a mesh line until a third member joins.
    const g = [member(url, 'g1', 'grows'), member(url, 'g2', 'grows')];
    clients.push(...g.map((m) => m.client));
    await new Promise((r) => setTimeout(r, 500));
    await server.carriersSettled();
    assert.deepEqual(g.flatMap((m) => m.carriers), [], 'two members: the mesh carries it, nothing said');
    const g3 = member(url, 'g3', 'grows');
    clients.push(g3.client);
    const moved = await Promise.all([...g, g3].map((m) => m.next((c) => c.carrier === 'janus')));
    assert.equal(new Set(moved.map((m) => m.janus?.room)).size, 1, 'all three are told the same room');
  } finally {
    for (const c of clients) await c.close();
    await server.close();
  }
});
