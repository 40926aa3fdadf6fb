// Hosting binds the LAN: a station started with --host is reached from another machine (a network namespace on a
// veth link, whose address exists only there), and it says which URLs the crew uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StationState } from '../electron/common/contract';
import { createLan } from '../testkit/lan-link';
import { StationProcess } from '../testkit/station-process';

const ROOT = path.join(__dirname, '..');

/** Joins `line` at `url` from the other machine with a bare ws client; resolves with the server's first reply. */
function joinFrom(lan: Awaited<ReturnType<typeof createLan>>, url: string, line: string): Promise<{ type: string; peers?: { name: string }[]; message?: string }> {
  const script = `
    const { WebSocket } = require('ws');
    const ws = new WebSocket(${JSON.stringify(url)}, { rejectUnauthorized: false });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', stationId: 'far', name: 'Far', kind: 'station', lines: [{ line: ${JSON.stringify(line)} }], protocol: 1 })));
    ws.on('message', (d) => { process.stdout.write(d.toString()); ws.close(); });
    ws.on('error', (e) => { process.stdout.write(JSON.stringify({ type: 'failed', message: e.message })); });
  `;
  const child = lan.spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', () => resolve(JSON.parse(out || '{"type":"no-answer"}'))));
}

test('--host binds every interface by default: another machine on the LAN joins at the URL the station shows', async () => {
  const lan = await createLan();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'partyline-lan-'));
  const station = new StationProcess(['--name', 'Stage Left', '--host', '--port', '0', '--line', 'Stage Left', '--ui', '--data-dir', dataDir], { ...process.env, PULSE_SERVER: 'unix:/nonexistent' });
  try {
    const shown = (await station.waitFor(/others join at (.*)$/))[1]?.split(' ') ?? [];
    const state = (await station.invoke('station.getState')) as StationState;
    assert.equal(state.hosting?.bind, '0.0.0.0');
    assert.deepEqual(state.hosting?.joinUrls, shown, 'the log and the UI show the same URLs');
    const lanUrl = shown.find((u) => u.includes(`//${lan.hostAddress}:`));
    assert.ok(lanUrl, `the URL on the LAN's address ${lan.hostAddress} is among ${shown.join(' ')}`);
    const reply = await joinFrom(lan, lanUrl, 'Stage Left');
    assert.equal(reply.type, 'joined', JSON.stringify(reply));
    assert.deepEqual(reply.peers?.map((p) => p.name), ['Stage Left']);
  } finally {
    await station.stop();
    await lan.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('--bind 127.0.0.1 keeps the station to this machine: the LAN cannot reach it, and the station says so', async () => {
  const lan = await createLan();
  const station = new StationProcess(['--name', 'Solo', '--host', '--port', '0', '--bind', '127.0.0.1', '--line', 'main', '--ui', '--insecure'], { ...process.env, PULSE_SERVER: 'unix:/nonexistent' });
  try {
    await station.waitFor(/bound to 127\.0\.0\.1: no other machine can reach it/);
    const state = (await station.invoke('station.getState')) as StationState;
    assert.deepEqual(state.hosting?.joinUrls, []);
    const port = new URL(state.hosting?.url ?? '').port;
    const reply = await joinFrom(lan, `ws://${lan.hostAddress}:${port}/`, 'main');
    assert.equal(reply.type, 'failed');
    assert.match(String(reply.message), /ECONNREFUSED/);
  } finally {
    await station.stop();
    await lan.close();
  }
});
