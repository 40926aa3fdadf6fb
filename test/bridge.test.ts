// The WebSocket bridge's guard rails: token, loopback-only by default, foreign origins, static files.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { WS_CLOSE_UNAUTHORIZED } from '../electron/common/contract';
import { linesLog } from '../electron/compose/log';
import { serveControlSurface } from '../electron/control/control-surface';
import { ControlBridgeServer } from '../electron/control/ws-bridge';
import { ScriptedStation } from './contract-station.fixture';

function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** How a WebSocket attempt ended: closed with a code, or refused at the HTTP upgrade with a status. */
function wsOutcome(url: string, headers: Record<string, string> = {}): Promise<{ closeCode?: number; status?: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.on('close', (code) => resolve({ closeCode: code }));
    socket.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      socket.terminate();
    });
    socket.on('error', () => undefined);
  });
}

describe('control bridge security', () => {
  const station = new ScriptedStation();
  let bridge: ControlBridgeServer;
  let port: number;
  let token: string;
  let staticRoot: string;

  before(async () => {
    staticRoot = await mkdtemp(path.join(tmpdir(), 'partyline-bridge-'));
    await mkdir(path.join(staticRoot, 'assets'));
    await writeFile(path.join(staticRoot, 'index.html'), '<!doctype html><title>Partyline</title>');
    await writeFile(path.join(staticRoot, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(path.join(path.dirname(staticRoot), 'partyline-bridge-secret.txt'), 'secret');
    bridge = new ControlBridgeServer({ control: station, staticRoot });
    ({ port, token } = await bridge.start());
  });
  after(async () => {
    await bridge.close();
    await rm(staticRoot, { recursive: true, force: true });
    await rm(path.join(path.dirname(staticRoot), 'partyline-bridge-secret.txt'), { force: true });
  });

  test('the printed URL is loopback and carries the token in the fragment only', () => {
    const url = new URL(bridge.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.search, '');
    assert.equal(url.hash, `#token=${token}`);
    assert.ok(token.length >= 32);
  });

  test('missing token: WebSocket closed with 4401, station never subscribed', async () => {
    const outcome = await wsOutcome(`ws://127.0.0.1:${port}/control`);
    assert.equal(outcome.closeCode, WS_CLOSE_UNAUTHORIZED);
    assert.equal(station.listenerCount, 0);
  });

  test('wrong token (same length and different length): closed with 4401', async () => {
    const sameLength = token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await wsOutcome(`ws://127.0.0.1:${port}/control?token=${sameLength}`)).closeCode, WS_CLOSE_UNAUTHORIZED);
    assert.equal((await wsOutcome(`ws://127.0.0.1:${port}/control?token=short`)).closeCode, WS_CLOSE_UNAUTHORIZED);
  });

  test('plain HTTP to /control without the token: 401', async () => {
    assert.equal((await httpGet(`http://127.0.0.1:${port}/control`)).status, 401);
    assert.equal((await httpGet(`http://127.0.0.1:${port}/control?token=nope`)).status, 401);
  });

  test('a page from another origin is refused even with the right token', async () => {
    const outcome = await wsOutcome(`ws://127.0.0.1:${port}/control?token=${token}`, { Origin: 'http://evil.example' });
    assert.equal(outcome.status, 403);
  });

  test('the right token (and our own origin) gets a working control socket', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/control?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const reply = new Promise<unknown>((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
    socket.send(JSON.stringify({ id: 'a1', cmd: 'station.getState', input: {} }));
    const message = (await reply) as { id: string; ok: boolean; output: { connection: string } };
    assert.equal(message.id, 'a1');
    assert.equal(message.ok, true);
    assert.equal(message.output.connection, 'idle');
    socket.close();
  });

  test('malformed frames get typed errors naming the field', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/control?token=${token}`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const replies: unknown[] = [];
    const three = new Promise<void>((resolve) =>
      socket.on('message', (data) => {
        replies.push(JSON.parse(data.toString()));
        if (replies.length === 3) resolve();
      }),
    );
    socket.send('not json');
    socket.send(JSON.stringify({ id: 7, input: {} }));
    socket.send(JSON.stringify({ id: 8, cmd: 'line.setVolume', input: { line: 'A', volume: 'loud' } }));
    await three;
    assert.deepEqual(replies[0], { id: null, ok: false, error: { code: 'invalid', message: 'message is not JSON' } });
    assert.deepEqual((replies[1] as { id: number; error: { field: string } }).id, 7);
    assert.deepEqual((replies[1] as { error: { field: string } }).error.field, 'cmd');
    assert.deepEqual((replies[2] as { error: { field: string } }).error.field, 'volume');
    socket.close();
  });

  test('requests addressed to a non-loopback name (DNS rebinding) are refused', async () => {
    assert.equal((await httpGet(`http://127.0.0.1:${port}/`, { Host: `evil.example:${port}` })).status, 403);
    const outcome = await wsOutcome(`ws://127.0.0.1:${port}/control?token=${token}`, { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` });
    assert.equal(outcome.status, 403);
    assert.equal((await httpGet(`http://127.0.0.1:${port}/`, { Host: `localhost:${port}` })).status, 200);
  });

  test('serves the renderer with its CSP, and nothing outside its folder', async () => {
    const index = await httpGet(`http://127.0.0.1:${port}/`);
    assert.equal(index.status, 200);
    assert.match(index.body, /<title>Partyline<\/title>/);
    assert.match(String(index.headers['content-security-policy']), /default-src 'none'/);
    assert.match(String(index.headers['content-type']), /text\/html/);
    const script = await httpGet(`http://127.0.0.1:${port}/assets/app.js`);
    assert.match(String(script.headers['content-type']), /javascript/);
    for (const sneaky of ['/../partyline-bridge-secret.txt', '/%2e%2e/partyline-bridge-secret.txt', '/assets/..%2f..%2fpartyline-bridge-secret.txt']) {
      const res = await httpGet(`http://127.0.0.1:${port}${sneaky}`);
      assert.equal(res.status, 404, sneaky);
      assert.doesNotMatch(res.body, /secret/);
    }
  });
});

describe('control bridge binding', () => {
  test('a non-loopback address without allowRemote is refused with a clear error', () => {
    for (const host of ['0.0.0.0', '192.168.1.20', '::']) {
      assert.throws(() => new ControlBridgeServer({ control: new ScriptedStation(), host }), (error: Error) => {
        assert.match(error.message, new RegExp(`non-loopback address ${host.replace(/\./g, '\\.')}`));
        assert.match(error.message, /allowRemote/);
        return true;
      });
    }
  });

  test('allowRemote permits a wildcard bind; the token is still required', async () => {
    const bridge = new ControlBridgeServer({ control: new ScriptedStation(), host: '0.0.0.0', allowRemote: true });
    const { port } = await bridge.start();
    try {
      assert.equal((await wsOutcome(`ws://127.0.0.1:${port}/control`)).closeCode, WS_CLOSE_UNAUTHORIZED);
    } finally {
      await bridge.close();
    }
  });

  test('a caller-chosen token must be long enough to guess-proof', () => {
    assert.throws(() => new ControlBridgeServer({ control: new ScriptedStation(), token: 'abc' }), /at least 16/);
  });
});

describe('serveControlSurface (what `station --ui` calls)', () => {
  test('prints the URL, answers settings from its file, restores remembered devices', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'partyline-surface-'));
    const settingsFile = path.join(dir, 'settings.json');
    await writeFile(settingsFile, JSON.stringify({ version: 1, connect: null, devices: { inputId: 'PulseAudio:Headset:0', outputId: null }, talkHoldThresholdMs: 400, testTone: { frequencyHz: 1000, levelDb: -18 } }));
    const station = new ScriptedStation();
    const lines: string[] = [];
    const surface = await serveControlSurface({ control: station, settingsFile, rendererRoot: dir, log: linesLog((line) => lines.push(line)) });
    try {
      assert.deepEqual(station.calls.map((call) => [call.name, call.input]), [['devices.select', { inputId: 'PulseAudio:Headset:0', outputId: null }]]);
      assert.ok(lines.includes(`Control surface: ${surface.url}`));
      assert.ok(lines.some((line) => line.includes('npm run build:renderer')));
      const socket = new WebSocket(`ws://127.0.0.1:${surface.port}/control?token=${surface.token}`);
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const reply = new Promise<{ output: { talkHoldThresholdMs: number } }>((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
      socket.send(JSON.stringify({ id: 1, cmd: 'settings.get' }));
      assert.equal((await reply).output.talkHoldThresholdMs, 400);
      socket.close();
    } finally {
      await surface.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
