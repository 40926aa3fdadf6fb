// Hardware panels keep working across restarts: the control WebSocket's port and token are remembered in the settings
// file, given ones (--control-port/--control-token) win, and a port taken meanwhile is reported, not fatal.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { linesLog } from '../electron/compose/log';
import { silentLog } from '../electron/common/log';
import { serveControlSurface } from '../electron/control/control-surface';
import { ScriptedStation } from './contract-station.fixture';
import { StationProcess } from '../testkit/station-process';
import { sleep } from '../testkit/pulse';
import { freePort } from '../testkit/free-port';

async function answers(port: number, token: string): Promise<boolean> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/control?token=${token}`);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  // Events may flow on the socket too: the answer is the message with our id.
  const reply = new Promise<{ ok: boolean }>((resolve) =>
    socket.on('message', (d) => {
      const msg = JSON.parse(d.toString()) as { id?: number; ok: boolean };
      if (msg.id === 1) resolve(msg);
    }),
  );
  socket.send(JSON.stringify({ id: 1, cmd: 'app.info' }));
  const { ok } = await reply;
  socket.close();
  return ok;
}


test('the port and token picked at first start are remembered and served again after a restart', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'partyline-endpoint-'));
  const settingsFile = path.join(dir, 'settings.json');
  const log: string[] = [];
  try {
    const first = await serveControlSurface({ control: new ScriptedStation(), settingsFile, rendererRoot: dir, log: linesLog((l) => log.push(l)) });
    await first.close();
    const saved = JSON.parse(await readFile(settingsFile, 'utf8')) as { control: { port: number; token: string } };
    assert.deepEqual(saved.control, { port: first.port, token: first.token });

    const second = await serveControlSurface({ control: new ScriptedStation(), settingsFile, rendererRoot: dir, log: linesLog((l) => log.push(l)) });
    try {
      assert.deepEqual([second.port, second.token], [first.port, first.token], 'same port, same token');
      assert.ok(await answers(second.port, first.token), 'a panel configured at first start is answered');
    } finally {
      await second.close();
    }

    // Given ones win and are remembered in their turn.
    const givenPort = await freePort();
    const given = await serveControlSurface({ control: new ScriptedStation(), settingsFile, rendererRoot: dir, port: givenPort, token: 'panel-token-0123456789', log: linesLog((l) => log.push(l)) });
    await given.close();
    assert.deepEqual([given.port, given.token], [givenPort, 'panel-token-0123456789']);
    const third = await serveControlSurface({ control: new ScriptedStation(), settingsFile, rendererRoot: dir, log: linesLog((l) => log.push(l)) });
    await third.close();
    assert.deepEqual([third.port, third.token], [givenPort, 'panel-token-0123456789']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a remembered port another program holds now: a new one, said so; a given one taken: an error naming it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'partyline-endpoint-'));
  const settingsFile = path.join(dir, 'settings.json');
  const squatter = createServer();
  try {
    const first = await serveControlSurface({ control: new ScriptedStation(), settingsFile, rendererRoot: dir, log: silentLog });
    await first.close();
    await new Promise<void>((resolve) => squatter.listen(first.port, '127.0.0.1', resolve));

    const log: string[] = [];
    const moved = await serveControlSurface({ control: new ScriptedStation(), settingsFile, rendererRoot: dir, log: linesLog((l) => log.push(l)) });
    await moved.close();
    assert.notEqual(moved.port, first.port);
    assert.equal(moved.token, first.token, 'the token stays');
    assert.ok(log.some((l) => l.includes(`remembered control port ${first.port} is in use`)), log.join('\n'));
    const saved = JSON.parse(await readFile(settingsFile, 'utf8')) as { control: { port: number } };
    assert.equal(saved.control.port, moved.port, 'the new port is remembered');

    await assert.rejects(
      serveControlSurface({ control: new ScriptedStation(), settingsFile, rendererRoot: dir, port: first.port, log: silentLog }),
      new RegExp(`control port ${first.port}: in use by another program`),
    );
  } finally {
    squatter.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('station CLI: --settings keeps the control port and token across restarts; --control-token must be long enough', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'partyline-endpoint-cli-'));
  // No sound device: the station still serves its control surface (see station-no-device.test.ts).
  const env = { ...process.env, PULSE_SERVER: 'unix:/nonexistent' };
  const args = ['--ui', '--settings', path.join(dir, 'settings.json'), '--data-dir', dir];
  const urls: string[] = [];
  try {
    for (let run = 0; run < 2; run++) {
      const station = new StationProcess(args, env, `run${run}`);
      try {
        urls.push((await station.waitFor(/Control surface: (\S+)/))[1] as string);
      } finally {
        assert.equal(await station.stop(), '0', station.tail());
      }
    }
    assert.equal(urls[1], urls[0], 'the second start serves the URL of the first');

    const short = new StationProcess([...args, '--control-token', 'short'], env, 'short');
    assert.equal(await short.ended(), '2', 'exits with the usage error');
    // Its output may still be in the pipe when the exit is seen.
    for (let i = 0; i < 20 && !short.lines.some((l) => l.includes('--control-token')); i++) await sleep(50);
    assert.ok(short.lines.some((l) => l.includes('--control-token: must be at least 16 characters')), short.tail());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
