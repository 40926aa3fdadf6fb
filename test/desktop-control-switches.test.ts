/**
 * The desktop app's --control-port and --control-token switches, on the real electron/electron-main/main.ts under the
 * stand-in for `electron`: a bad value stops the start with an error that names the switch (the station CLI's rule and
 * words), and good values are the port and token the panels' WebSocket answers on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { WS_CLOSE_UNAUTHORIZED } from '../electron/common/contract';
import { freePort } from '../testkit/free-port';
import { launchStandInApp } from './support/stand-in-app';

const launch = launchStandInApp;

/** Whether the control WebSocket at port answers app.info with this token, or the close code it was sent away with. */
async function panelAnswer(port: number, token: string): Promise<'answered' | number> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/control?token=${token}`);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', (code) => resolve(code));
    socket.once('open', () => socket.send(JSON.stringify({ id: 1, cmd: 'app.info' })));
    socket.on('message', (d) => {
      const msg = JSON.parse(d.toString()) as { id?: number; ok: boolean };
      if (msg.id !== 1) return;
      socket.removeAllListeners('close');
      socket.close();
      if (msg.ok) resolve('answered');
      else reject(new Error(`app.info failed: ${d.toString()}`));
    });
  });
}

const errorBox = (output: string) => {
  const line = output.split('\n').find((l) => l.startsWith('STAND-IN ERROR BOX '));
  return line
    ? (JSON.parse(line.slice('STAND-IN ERROR BOX '.length)) as { title: string; content: string })
    : undefined;
};

test('a bad --control-port or a short --control-token stops the start with an error naming the switch', async () => {
  const cases = [
    { switches: ['--control-port=70000'], message: '--control-port: "70000" is not a port (0-65535)' },
    { switches: ['--control-port=panel'], message: '--control-port: "panel" is not a whole number' },
    { switches: ['--control-token=short-secret'], message: '--control-token: must be at least 16 characters' },
  ];
  for (const { switches, message } of cases) {
    const app = launch(switches);
    assert.equal(await app.exited, 2, `${switches.join(' ')}: exits as a usage error; output:\n${app.output()}`);
    assert.deepEqual(
      errorBox(app.output()),
      { title: 'Partyline cannot start', content: message },
      'the operator is shown why',
    );
    assert.ok(app.output().includes(`[partyline] ${message}`), `and it is on stderr:\n${app.output()}`);
  }
  const token = launch(['--control-token=short-secret']);
  await token.exited;
  assert.ok(!token.output().includes('short-secret'), 'the token is not repeated');
});

test('a valid --control-port and --control-token are the port and token the panels are answered on', async () => {
  const port = await freePort();
  const token = 'panel-token-0123456789';
  const app = launch([`--control-port=${port}`, `--control-token=${token}`]);
  try {
    for (let i = 0; ; i++) {
      const state = await app.order<{ window?: { visible: boolean } }>({ op: 'state' });
      if (state.window?.visible) break;
      if (i > 200) throw new Error(`the app never showed its window; its output:\n${app.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await panelAnswer(port, token), 'answered', 'the given token opens the given port');
    assert.equal(await panelAnswer(port, 'another-token-0123456789'), WS_CLOSE_UNAUTHORIZED, 'and no other token does');
  } finally {
    app.child.kill('SIGKILL');
    await app.exited;
  }
});
