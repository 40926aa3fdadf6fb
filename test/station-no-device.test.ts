// The README's first command on a machine with no sound device: the station starts anyway, serves its UI and its
// signalling, and shows the device problem, where it used to exit 3.
import { test } from 'node:test';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION } from '../electron/common/signalling-protocol';
import type { StationState } from '../electron/common/contract';
import { PulseHarness } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';

test('a --ui station with no sound device serves its UI and signalling and reports the device problem', async () => {
  // No sound server and no card: PortAudio finds no device at all.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'partyline-no-device-'));
  const station = new StationProcess(['--name', 'Stage Left', '--host', '--port', '0', '--line', 'main', '--ui', '--data-dir', dataDir], { ...process.env, PULSE_SERVER: 'unix:/nonexistent' });
  try {
    const url = (await station.waitFor(/hosting (wss?:\/\/\S+)/))[1] as string;
    await station.waitFor(/Control surface: http/);
    const state = (await station.invoke('station.getState')) as StationState;
    assert.equal(state.devices.inputState, 'error');
    assert.match(String(state.devices.error), /no input device/);

    // Its signalling admits others, and the station itself is on the line.
    // Hosting is TLS by default; this probe does not pin the certificate (tls.test.ts covers trust).
    assert.match(url, /^wss:/);
    const guest = new WebSocket(url, { rejectUnauthorized: false });
    await new Promise((resolve, reject) => guest.once('open', resolve).once('error', reject));
    const joined = new Promise<{ type: string; peers: { name: string }[] }>((resolve) => guest.once('message', (d) => resolve(JSON.parse(d.toString()))));
    guest.send(JSON.stringify({ type: 'join', stationId: 'probe', name: 'Probe', kind: 'station', lines: [{ line: 'main' }], protocol: PROTOCOL_VERSION }));
    const reply = await joined;
    guest.close();
    assert.equal(reply.type, 'joined');
    assert.deepEqual(reply.peers.map((p) => p.name), ['Stage Left']);
  } finally {
    assert.equal(await station.stop(), '0', `the station leaves cleanly: ${station.tail()}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the devices open by themselves once a sound device appears', async () => {
  const pulse = await PulseHarness.start(['late']);
  const socketDir = mkdtempSync(path.join(tmpdir(), 'partyline-late-pulse-'));
  const socket = path.join(socketDir, 'native');
  // The sound server's socket is not there yet: the station starts with no device at all.
  const station = new StationProcess(['--ui'], { ...pulse.env, PULSE_SERVER: `unix:${socket}` }, 'late');
  try {
    await station.waitFor(/starting without sound devices/);
    assert.equal(((await station.invoke('station.getState')) as StationState).devices.inputState, 'error');
    symlinkSync(path.join(pulse.dir, 'run', 'pulse', 'native'), socket);
    await station.waitFor(/devices available now/, 20_000);
    const devices = ((await station.invoke('station.getState')) as StationState).devices;
    assert.deepEqual([devices.inputState, devices.outputState], ['ok', 'ok']);
    assert.equal(devices.error, undefined);
  } finally {
    assert.equal(await station.stop(), '0', `the station leaves cleanly: ${station.tail()}`);
    await pulse.stop();
    rmSync(socketDir, { recursive: true, force: true });
  }
});
