/**
 * `npm run bench -- faults`: the faults a show meets, with stations A and B talking tones to each other and both
 * speakers recorded, across network namespaces (testkit/fault-rig.ts):
 * - the signalling server killed, away 5 s, and restarted on the same port: how long each station takes to rejoin,
 *   and the silence at the speakers while it is away and in the 30 s after it returns;
 * - station B's link cut at the switch for 10 s, then for 30 s: how long after the link's return the audio is back;
 * and on one station's own devices (real null sinks; no namespaces needed):
 * - its speaker, then its microphone, unplugged (the sink's module unloaded) and plugged back: how long until its
 *   control API reports the device missing, until the system default stands in, and until the device is back on air;
 * - the sound server killed and started again on the same runtime directory: how long after it answers until both
 *   streams are back on the chosen devices;
 * - a fresh station on an idle sink nobody pinned (slow to start, in 2 s blocks): whether it carries audio.
 * Needs root for the namespaces (without, those fields are null and say why); run it under `flock /tmp/pl-audio.lock`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceSelection } from '../electron/common/contract';
import { StationProcess } from '../testkit/station-process';
import { PulseHarness, sleep } from '../testkit/pulse';
import { RATE } from '../testkit/signal';
import { NetnsUnavailable } from '../testkit/netns';
import { FRAME, callEvents, speakerEvents, serverUrl, silentRuns, startRig, startServer, startStations, stopRig, talkAndRecord, watchRejoins, type FaultRig } from '../testkit/fault-rig';

const SERVER_AWAY_MS = 5000;
const AFTER_RETURN_MS = 30000;
const CUTS_MS = [10000, 30000];

type Log = (line: string) => void;

/** Silent milliseconds in a wall-clock window of a recording that began at `startedAt` (±50 ms: the recorder's own start). */
function silentMs(x: Int16Array, startedAt: number, from: number, to: number): number {
  const at = (t: number) => Math.max(0, Math.min(x.length, Math.round(((t - startedAt) / 1000) * RATE)));
  return silentRuns(x, at(from), at(to)).reduce((sum, run) => sum + run[1] * 10, 0);
}

async function serverRestart(rig: FaultRig, log: Log): Promise<{ rejoinMs: number; gapWhileDownMs: number; gapAfterReturnMs: number }> {
  let { server } = await startServer(rig);
  const stations = await startStations(rig, serverUrl(rig));
  const call = talkAndRecord(rig, (SERVER_AWAY_MS + AFTER_RETURN_MS) / 1000 + 10);
  try {
    await sleep(1500);
    const rejoins = watchRejoins(stations);
    await server.stop('SIGKILL');
    const killedAt = Date.now();
    await sleep(SERVER_AWAY_MS);
    const back = await startServer(rig);
    server = back.server;
    const rejoinMs = Math.max(...(await rejoins.after(back.listeningAt)));
    await sleep(AFTER_RETURN_MS);
    const { atB, atA } = await call.stop();
    for (const s of stations) log(`  ${s.label}: ${callEvents(s).slice(-6).join(' | ')}`);
    const gapWhileDownMs = Math.max(...[atB, atA].map((x) => silentMs(x, call.startedAt, killedAt, back.listeningAt)));
    const gapAfterReturnMs = Math.max(...[atB, atA].map((x) => silentMs(x, call.startedAt, back.listeningAt, back.listeningAt + AFTER_RETURN_MS)));
    log(`server away ${back.listeningAt - killedAt} ms: rejoined within ${rejoinMs} ms of its return; silent ${gapWhileDownMs} ms while away, ${gapAfterReturnMs} ms in the ${AFTER_RETURN_MS / 1000} s after`);
    return { rejoinMs, gapWhileDownMs, gapAfterReturnMs };
  } finally {
    call.abort();
    for (const s of stations) await s.stop();
    await server.stop();
  }
}

async function linkCut(rig: FaultRig, log: Log, cutMs: number): Promise<number> {
  const { server } = await startServer(rig);
  const stations = await startStations(rig, serverUrl(rig));
  const call = talkAndRecord(rig, cutMs / 1000 + 15);
  try {
    await sleep(1500);
    await rig.lab.cut('b');
    const cutAt = Date.now();
    await sleep(cutMs);
    await rig.lab.restore('b');
    const restoredAt = Date.now();
    await sleep(5000);
    const { atB, atA } = await call.stop();
    const clock = (t: number) => new Date(t).toISOString().slice(11, 23);
    log(`  link cut at ${clock(cutAt)}, back at ${clock(restoredAt)}`);
    for (const s of stations) log(`  ${s.label}: ${callEvents(s).slice(-6).join(' | ')}`);
    // The cut is each recording's longest silent run; its length less the cut's is the recovery.
    const recoveries = [atB, atA].map((x) => Math.max(...silentRuns(x, RATE / 2, x.length - RATE / 5).map((run) => run[1] * 10)) - (restoredAt - cutAt));
    const recoveryMs = Math.max(...recoveries);
    log(`link cut for ${restoredAt - cutAt} ms: audio back ${recoveries.join(' / ')} ms after the link's return (B hears A / A hears B)`);
    // Any stutter once the audio is back: the silent runs after the cut's, and what the listener logged meanwhile.
    for (const [x, who, listener] of [[atB, 'B hears A', stations[1]], [atA, 'A hears B', stations[0]]] as const) {
      const runs = silentRuns(x, RATE / 2, x.length - RATE / 5);
      const cut = runs.reduce((a, run) => (run[1] > a[1] ? run : a), [0, 0] as [number, number]);
      const end = cut[0] + cut[1] * FRAME;
      const after = runs.filter((run) => run[0] >= end).map((run) => `${run[1] * 10} ms at +${Math.round(((run[0] - end) / RATE) * 1000)} ms`);
      log(`  ${who}: after the cut's silence, silent runs: ${after.join(', ') || 'none'}`);
      if (after.length && listener) log(`    ${listener.label}: ${speakerEvents(listener).slice(-8).join(' | ')}`);
    }
    return recoveryMs;
  } finally {
    call.abort();
    await rig.lab.restore('b');
    for (const s of stations) await s.stop();
    await server.stop();
  }
}

/** A station on its own devices with its control API, playing its test tone; its control API's events are timed. */
async function deviceStation(pulse: PulseHarness, dataDir: string, input: string, output: string, label: string): Promise<StationProcess> {
  const station = new StationProcess(
    ['--ui', '--data-dir', dataDir, '--settings', path.join(dataDir, `${label}.json`), '--input', input, '--output', output, '--meters-every', '0'],
    pulse.env,
    label,
  );
  await station.connectControl();
  await station.invoke('devices.testTone', { on: true, frequencyHz: 1000, levelDb: -12 });
  return station;
}

/** When (wall clock) the first `devices` event since `from` that `matches` arrived; polls up to `timeoutMs`. */
async function devicesEventAt(station: StationProcess, from: number, matches: (d: DeviceSelection) => boolean, timeoutMs = 15000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const hit = station.events.slice(from).find((e) => e.event === 'devices' && matches((e.payload as { selection: DeviceSelection }).selection));
    if (hit) return hit.at;
    if (Date.now() > until) throw new Error(`${station.label}: no devices event as expected; log: ${station.tail(12)}`);
    await sleep(20);
  }
}

const onChoice = (d: DeviceSelection) => d.inputState === 'ok' && d.outputState === 'ok' && !d.inputFallback && !d.outputFallback;

interface DeviceFigures {
  lossStateMs: number;
  fallbackMs: number;
  returnMs: number;
  soundServerRecoveryMs: number;
  slowDeviceOk: boolean;
}

async function deviceFaults(log: Log): Promise<DeviceFigures> {
  const pulse = await PulseHarness.start(['x'], { script: ['load-module module-null-sink sink_name=idle44 rate=44100 channels=2'] });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'partyline-bench-devices-'));
  const x = pulse.devices('x');
  const stations: StationProcess[] = [];
  try {
    const station = await deviceStation(pulse, dataDir, x.serverInputId, x.serverOutputId, 'X');
    stations.push(station);
    await devicesEventAt(station, 0, onChoice).catch(() => undefined);
    await sleep(1000);
    const figures = { lossStateMs: 0, fallbackMs: 0, returnMs: 0 };
    for (const [sink, direction] of [['x_spk', 'output'], ['x_mic', 'input']] as const) {
      const state = direction === 'input' ? 'inputState' : 'outputState';
      const fallback = direction === 'input' ? 'inputFallback' : 'outputFallback';
      const from = station.events.length;
      const unpluggedAt = Date.now();
      const unplugged = await pulse.unplug(sink);
      const missingAt = await devicesEventAt(station, from, (d) => d[state] === 'missing');
      const standInAt = await devicesEventAt(station, from, (d) => d[fallback] === true);
      await sleep(2000);
      const back = station.events.length;
      const pluggedAt = Date.now();
      await pulse.plugBack(unplugged);
      const returnedAt = await devicesEventAt(station, back, onChoice);
      log(`${direction} ${sink} unplugged: reported missing after ${missingAt - unpluggedAt} ms, the default stood in after ${standInAt - unpluggedAt} ms; plugged back: on air again ${returnedAt - pluggedAt} ms later`);
      figures.lossStateMs = Math.max(figures.lossStateMs, missingAt - unpluggedAt);
      figures.fallbackMs = Math.max(figures.fallbackMs, standInAt - unpluggedAt);
      figures.returnMs = Math.max(figures.returnMs, returnedAt - pluggedAt);
      await sleep(1000);
    }

    const from = station.events.length;
    pulse.kill();
    await devicesEventAt(station, from, (d) => d.inputState === 'missing' && d.outputState === 'missing');
    await sleep(3000);
    const back = station.events.length;
    await pulse.restart();
    const recoveredAt = await devicesEventAt(station, back, onChoice);
    const soundServerRecoveryMs = recoveredAt - pulse.answeringAt;
    log(`sound server killed, away 3 s, started again: both streams back on the chosen devices ${soundServerRecoveryMs} ms after it answered`);

    // A fresh station on a sink nobody pinned: its test tone played into the sink comes back through the sink's monitor.
    const slow = await deviceStation(pulse, dataDir, 'PulseAudio:idle44.monitor#0', 'PulseAudio:idle44#0', 'Slow');
    stations.push(slow);
    await sleep(6000);
    const mark = slow.events.length;
    await sleep(1500);
    const heard = Math.max(-120, ...slow.events.slice(mark).filter((e) => e.event === 'meters').map((e) => (e.payload as { input: { rmsDb: number } }).input.rmsDb));
    const lostLines = slow.lines.filter((l) => /did not start|stalled|ended by itself/.test(l));
    const slowDeviceOk = heard > -30 && lostLines.length === 0;
    log(`idle unpinned sink (44.1 kHz): after 6 s its monitor brings back the station's own tone at ${heard.toFixed(1)} dBFS RMS${lostLines.length ? `; lost: ${lostLines.join(' | ')}` : ''}`);
    return { ...figures, soundServerRecoveryMs, slowDeviceOk };
  } finally {
    for (const s of stations) await s.stop();
    await pulse.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runFaultsBench(log: Log = (l) => process.stdout.write(`${l}\n`)): Promise<object> {
  const devices = await deviceFaults(log);
  const deviceFields = {
    device_loss_state_ms: devices.lossStateMs,
    device_fallback_ms: devices.fallbackMs,
    device_return_reopen_ms: devices.returnMs,
    slow_device_start_ok: devices.slowDeviceOk,
    sound_server_restart_recovery_ms: devices.soundServerRecoveryMs,
  };
  let rig: FaultRig;
  try {
    rig = await startRig();
  } catch (e) {
    if (!(e instanceof NetnsUnavailable)) throw e;
    log(`faults across namespaces: not measured: ${e.message}`);
    return { bench: 'faults', skipped: e.message, ...deviceFields };
  }
  try {
    const restart = await serverRestart(rig, log);
    const cuts: number[] = [];
    for (const cutMs of CUTS_MS) cuts.push(await linkCut(rig, log, cutMs));
    return {
      bench: 'faults',
      server_restart_rejoin_ms: restart.rejoinMs,
      audio_gap_while_server_down_ms: restart.gapWhileDownMs,
      audio_gap_after_server_return_ms: restart.gapAfterReturnMs,
      link_cut_recovery_ms: Math.max(...cuts),
      link_cut_10s_recovery_ms: cuts[0],
      link_cut_30s_recovery_ms: cuts[1],
      ...deviceFields,
      targets: { server_restart_rejoin_ms: 3000, audio_gap_ms: 0, link_cut_recovery_ms: 2000, device_loss_state_ms: 1000, slow_device_start_ok: true },
    };
  } finally {
    await stopRig(rig);
  }
}

if (require.main === module) {
  runFaultsBench()
    .then((result) => process.stdout.write(JSON.stringify(result) + '\n'))
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    });
}
