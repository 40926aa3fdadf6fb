/**
 * `npm run bench -- faults`: the faults a show meets, across network namespaces (testkit/fault-rig.ts), with
 * stations A and B talking tones to each other and both speakers recorded:
 * - the signalling server killed, away 5 s, and restarted on the same port: how long each station takes to rejoin,
 *   and the silence at the speakers while it is away and in the 30 s after it returns;
 * - station B's link cut at the switch for 10 s: how long after the link's return the audio is back.
 * Device loss, a slow-starting device and a sound server restart are not measured yet: their fields are null.
 * Needs root (network namespaces); run it under `flock /tmp/pl-audio.lock`.
 */
import { sleep } from '../testkit/pulse';
import { RATE } from '../testkit/signal';
import { NetnsUnavailable } from '../testkit/netns';
import { callEvents, serverUrl, silentRuns, startRig, startServer, startStations, stopRig, talkAndRecord, watchRejoins, type FaultRig } from '../testkit/fault-rig';

const SERVER_AWAY_MS = 5000;
const AFTER_RETURN_MS = 30000;
const CUT_MS = 10000;

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

async function linkCut(rig: FaultRig, log: Log): Promise<number> {
  const { server } = await startServer(rig);
  const stations = await startStations(rig, serverUrl(rig));
  const call = talkAndRecord(rig, CUT_MS / 1000 + 15);
  try {
    await sleep(1500);
    await rig.lab.cut('b');
    const cutAt = Date.now();
    await sleep(CUT_MS);
    await rig.lab.restore('b');
    const restoredAt = Date.now();
    await sleep(5000);
    const { atB, atA } = await call.stop();
    for (const s of stations) log(`  ${s.label}: ${callEvents(s).slice(-6).join(' | ')}`);
    // The cut is each recording's longest silent run; its length less the cut's is the recovery.
    const recoveries = [atB, atA].map((x) => Math.max(...silentRuns(x, RATE / 2, x.length - RATE / 5).map((run) => run[1] * 10)) - (restoredAt - cutAt));
    const recoveryMs = Math.max(...recoveries);
    log(`link cut for ${restoredAt - cutAt} ms: audio back ${recoveries.join(' / ')} ms after the link's return (B hears A / A hears B)`);
    return recoveryMs;
  } finally {
    call.abort();
    await rig.lab.restore('b');
    for (const s of stations) await s.stop();
    await server.stop();
  }
}

export async function runFaultsBench(log: Log = (l) => process.stdout.write(`${l}\n`)): Promise<object> {
  let rig: FaultRig;
  try {
    rig = await startRig();
  } catch (e) {
    if (!(e instanceof NetnsUnavailable)) throw e;
    log(`faults: not measured: ${e.message}`);
    return { bench: 'faults', skipped: e.message };
  }
  try {
    const restart = await serverRestart(rig, log);
    const cut = await linkCut(rig, log);
    log('not measured yet: device loss, a slow-starting device, a sound server restart (null below)');
    return {
      bench: 'faults',
      server_restart_rejoin_ms: restart.rejoinMs,
      audio_gap_while_server_down_ms: restart.gapWhileDownMs,
      audio_gap_after_server_return_ms: restart.gapAfterReturnMs,
      link_cut_recovery_ms: cut,
      device_loss_state_ms: null,
      slow_device_start_ok: null,
      sound_server_restart_recovery_ms: null,
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
