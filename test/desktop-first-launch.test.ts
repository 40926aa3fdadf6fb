/**
 * The desktop app as a new user meets it: the real electron/electron-main/main.ts (under the stand-in for `electron`) started with
 * an empty userData opens the system default microphone and speaker by itself, joins a line through IPC where another
 * station talks, and the tone is heard on the default speaker. Its log file in userData gets the engine's lines.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { dominantFrequency, rmsDb, tone } from '../testkit/signal';
import type { StationState } from '../electron/common/contract';
import { LOG_FILE } from '../electron/electron-main/app-log';
import { KNOWN_HOSTS_FILE } from '../electron/signalling/known-hosts';

const run = promisify(execFile);
const APP_FRAME = 'app://partyline/index.html';

let pulse: PulseHarness;
let child: ChildProcess | undefined;
let userData: string;
let output = '';
let nextId = 1;
const waiting = new Map<number, (reply: { ok: boolean; result?: unknown; error?: string }) => void>();

async function order<T>(o: Record<string, unknown>): Promise<T> {
  const id = nextId++;
  const reply = await new Promise<{ ok: boolean; result?: unknown; error?: string }>((resolve, reject) => {
    waiting.set(id, resolve);
    child?.send({ ...o, id }, (e) => e && reject(e));
  });
  if (!reply.ok) throw new Error(`stand-in: ${reply.error}`);
  return reply.result as T;
}

async function invoke<T>(cmd: string, input: unknown): Promise<T> {
  const answer = await order<{ ok: boolean; output?: T; error?: unknown }>({ op: 'invoke', frameUrl: APP_FRAME, message: { cmd, input } });
  if (!answer.ok) throw new Error(`${cmd}: ${JSON.stringify(answer.error)}`);
  return answer.output as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; app output:\n${output.slice(-3000)}`);
    await sleep(100);
  }
}

before(async () => {
  pulse = await PulseHarness.start(['desk', 'far']);
  // The desk's virtual devices are the system defaults, as a laptop's own microphone and speaker would be.
  const desk = pulse.devices('desk');
  await run('pactl', ['set-default-sink', desk.speakerMonitor.replace(/\.monitor$/, '')], { env: pulse.env });
  await run('pactl', ['set-default-source', `${desk.micSink}.monitor`], { env: pulse.env });
  userData = mkdtempSync(path.join(tmpdir(), 'partyline-first-launch-'));
  child = fork(path.join(__dirname, 'support', 'main-with-stand-in.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...pulse.env, PARTYLINE_STANDIN_USERDATA: userData },
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  child.on('message', (m: { id: number; ok: boolean }) => waiting.get(m.id)?.(m));
  await until('the window', async () => ((await order<{ window?: { visible: boolean } }>({ op: 'state' })).window?.visible ? true : undefined));
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await pulse?.stop();
  rmSync(userData, { recursive: true, force: true });
});

test('first launch with an empty userData: the default devices open, a joined line is heard on the default speaker, and the engine logs to a file', async () => {
  const opened = await until('the default devices', async () => {
    const state = await invoke<StationState>('station.getState', {});
    return state.devices.inputState === 'ok' && state.devices.outputState === 'ok' ? state.devices : undefined;
  });
  assert.equal(opened.inputId, null, 'the system default microphone');
  assert.equal(opened.outputId, null, 'the system default speaker');

  const far = pulse.devices('far');
  const hostData = mkdtempSync(path.join(tmpdir(), 'partyline-far-'));
  const host = new StationProcess(['--name', 'Far', '--host', '--port', '0', '--line', 'main', '--input', far.inputId, '--output', far.outputId, '--talk', 'main', '--data-dir', hostData], pulse.env);
  try {
    const url = (await host.waitFor(/hosting (wss:\/\/\S+)/))[1] as string;
    const fingerprint = (await host.waitFor(/TLS certificate SHA-256 (\S+)/))[1] as string;
    await invoke('station.connect', { server: { kind: 'remote', url }, name: 'Desk', lines: [{ line: 'main' }], iceServers: [] });
    await host.waitFor(/\[peer Desk\] connected/);
    const recording = pulse.record(pulse.devices('desk').speakerMonitor);
    await sleep(300);
    const toDesk = pulse.inject(far.micSink, tone(440, 8, -12));
    await sleep(6_500);
    const heard = await recording.stop();
    toDesk.stop();
    const from = 48000 * 3;
    const to = from + 48000 * 3;
    assert.ok(heard.length >= to, `recorded ${heard.length} samples`);
    const f = dominantFrequency(heard, 100, 4000, from, to);
    assert.ok(Math.abs(f - 440) <= 2, `the default speaker plays ${f} Hz`);
    assert.ok(Math.abs(rmsDb(heard, from, to) + 15.05) <= 3, `level ${rmsDb(heard, from, to).toFixed(2)} dBFS`);
    // The Connect screen shows what the app joined and the certificate it trusts for it.
    const joined = (await invoke<StationState>('station.getState', {})).joined;
    assert.deepEqual(joined, { url, fingerprint });
    // The app pinned the host's certificate in its data folder on first use.
    const pinned = JSON.parse(readFileSync(path.join(userData, KNOWN_HOSTS_FILE), 'utf8')) as Record<string, string>;
    assert.equal(pinned[new URL(url).host], fingerprint);
  } finally {
    await host.stop();
    rmSync(hostData, { recursive: true, force: true });
  }

  const log = readFileSync(path.join(userData, 'logs', LOG_FILE), 'utf8');
  const records = log
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { component?: string; subject?: string; msg: string });
  for (const [component, subject] of [['audio'], ['peer', 'Far'], ['signal']] as const) {
    assert.ok(
      records.some((r) => r.component === component && (subject === undefined || r.subject === subject)),
      `the log file has records of ${component}${subject ? ` ${subject}` : ''}`,
    );
  }

  // Hardware panels reach the app over the control WebSocket, at the port and token its settings remember.
  const { control } = JSON.parse(readFileSync(path.join(userData, 'settings.json'), 'utf8')) as { control: { port: number; token: string } };
  assert.ok(log.includes(`Control surface: http://127.0.0.1:${control.port}/#token=${control.token}`), 'the log names the remembered endpoint');
  const panel = new WebSocket(`ws://127.0.0.1:${control.port}/control?token=${control.token}`);
  await new Promise((resolve, reject) => panel.once('open', resolve).once('error', reject));
  // Events (state, meters) flow on the socket too: the answer is the message with our id.
  const info = new Promise<{ output: { transport: string } }>((resolve) =>
    panel.on('message', (d) => {
      const msg = JSON.parse(d.toString()) as { id?: number; output: { transport: string } };
      if (msg.id === 1) resolve(msg);
    }),
  );
  panel.send(JSON.stringify({ id: 1, cmd: 'app.info' }));
  assert.equal((await info).output.transport, 'websocket');
  panel.close();
});
