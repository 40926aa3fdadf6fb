// The headless station: `npm run station -- --name A --server wss://HOST:PORT --line main[:secret] ...`
// Start it through `npm run station` (node --env-file=electron/cli/station.env), which sizes the threadpool first.
import { readFileSync } from 'node:fs';
import { homedir, setPriority } from 'node:os';
import { join } from 'node:path';
import { ConnectConfig, type IceServer } from '../common/contract';
import { loadTlsFiles, TlsFileError } from '../signalling/tls-identity';
import { exitProcess, listDevices, raiseAudioPriority, BridgeError } from '../../native/bridge';
import { composeStationControl } from '../compose/station';
import { stdoutLog } from '../compose/log';
import { serveControlSurface, type ControlSurface } from '../control/control-surface';
import { ArgError } from '../control/control-flags';
import { parseStationArgs, type StationArgs } from './station-args';
import { awaitDevices } from './await-devices';
import { churnGarbage, parseGarbage, parseStall, stallMainThread, type DebugLoad } from './debug-load';

const USAGE = `usage: npm run station -- --name NAME (--server wss://HOST:PORT [--fingerprint SHA256] | --server ws://HOST:PORT --insecure
                                  | --host [--port N] [--bind ADDR, default 0.0.0.0])
         [--tls-cert FILE --tls-key FILE | --insecure] [--data-dir DIR, default ~/.partyline]
         --line LINE[:SECRET] [--line ...] [--input DEVICE_ID] [--output DEVICE_ID]
         [--talk LINE ...] [--mute LINE ...] [--stun URL ...] [--turn URL,USER,PASS ...]
         [--lan-discovery on|off, default on: advertise a hosted station over mDNS, list others on the Connect screen]
         [--frame-ms 5|10|20] [--bitrate BPS] [--opus-application audio|voip] [--chunk-ms 5|10] [--priority raised|normal]
         [--ui [--control-port N] [--control-token TOKEN] [--ui-bind ADDR --allow-remote] [--ui-root DIR] [--settings FILE]]
           (with --settings, the control port and token are remembered there and kept across restarts)
         [--debug-stall-main MS/EVERY_MS] [--debug-main-garbage MB_PER_S]   (load the main thread on purpose)
       npm run station -- --ui [...]   (no --name/--line/--server: joins from the UI's Connect screen)
       npm run station -- --list-devices`;

function fail(message: string): never {
  process.stderr.write(`station: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const log = stdoutLog();
const audioLog = log.child({ component: 'audio' });
const stationLog = log.child({ component: 'station' });
/** The watchdog's last word before it ends the process. */
const lastWord = (line: string) => log.warn(line);

async function main(): Promise<void> {
  let args: StationArgs;
  try {
    args = parseStationArgs(process.argv.slice(2));
  } catch (e) {
    fail(e instanceof ArgError ? e.message : String(e));
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (args['list-devices']) {
    const d = listDevices();
    process.stdout.write(JSON.stringify(d, null, 2) + '\n');
    exitProcess(0);
  }
  // With --ui and nothing to join, the station starts idle and the operator connects from the UI.
  const joinFromUi = args.ui === true && !args.name && !args.line?.length && !args.server && !args.host;
  if (!joinFromUi) {
    if (!args.name) fail('--name is required');
    if (!args.line?.length) fail('at least one --line is required');
    if (!args.server && !args.host) fail('give --server wss://HOST:PORT, or --host to host the signalling server here');
  }
  if (args.server && args.host) fail('--server and --host exclude each other');
  if (Boolean(args['tls-cert']) !== Boolean(args['tls-key'])) fail('--tls-cert and --tls-key go together');
  if (args.insecure && args['tls-cert']) fail('--insecure and --tls-cert exclude each other');
  if (args['tls-cert'] && args['tls-key']) {
    try {
      loadTlsFiles(args['tls-cert'], args['tls-key']);
    } catch (e) {
      if (e instanceof TlsFileError) fail(`--tls-${e.file === args['tls-key'] ? 'key' : 'cert'} ${e.message}`);
      throw e;
    }
  }
  const uiPort = args['control-port'] ?? args['ui-port'] ?? 0;
  const uiToken = args['control-token'];
  let stall: { ms: number; everyMs: number } | undefined;
  let garbage: number | undefined;
  try {
    if (args['debug-stall-main']) stall = parseStall(args['debug-stall-main']);
    if (args['debug-main-garbage']) garbage = parseGarbage(args['debug-main-garbage']);
  } catch (e) {
    fail((e as Error).message);
  }

  const iceServers: IceServer[] = [
    ...(args.stun ?? []).map((urls) => ({ urls })),
    ...(args.turn ?? []),
  ];
  const lines = args.line ?? [];
  const config: ConnectConfig = {
    name: args.name ?? '',
    ...(args.id ? { stationId: args.id } : {}),
    server: args.host
      ? { kind: 'host', port: args.port ?? 0, ...(args.bind ? { bind: args.bind } : {}), ...(args.insecure ? { insecure: true } : {}) }
      : { kind: 'remote', url: args.server as string, ...(args.fingerprint ? { fingerprint: args.fingerprint } : {}), ...(args.insecure ? { insecure: true } : {}) },
    lines,
    iceServers,
  };

  const checked = ConnectConfig.safeParse(config);
  if (!joinFromUi && !checked.success) {
    const issue = checked.error.issues[0];
    fail(`${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}`);
  }
  if (checked.success) config.server = checked.data.server;

  // Before any device opens, so PortAudio's callback thread and the threadpool inherit it.
  const raised = (args.priority ?? 'raised') === 'raised';
  let priorityRaised = false;
  if (raised) {
    const p = raiseAudioPriority();
    priorityRaised = p.raised;
    if (p.raised) audioLog.info(`priority: nice ${p.nice}`);
    else audioLog.warn(`warning: could not raise the audio priority (${p.reason}); under CPU load the speaker may drop out. Allow it with RLIMIT_NICE (e.g. limits.conf "- nice -11") or run as a service with Nice=-11`);
  }

  const version = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  const lanDiscovery = (args['lan-discovery'] ?? 'on') === 'on';
  const control = composeStationControl({
    version,
    ...(lanDiscovery ? { lan: {} } : {}),
    frameMs: args['frame-ms'],
    bitrate: args.bitrate,
    application: args['opus-application'],
    chunkMs: args['chunk-ms'],
    realtime: raised,
    dataDir: args['data-dir'] ?? join(homedir(), '.partyline'),
    ...(args['tls-cert'] && args['tls-key'] ? { tls: { certFile: args['tls-cert'], keyFile: args['tls-key'] } } : {}),
    log,
  });
  const station = control.station;
  // The media thread and the device threads it starts inherited the raised priority when they were created; this
  // thread runs signalling, control and the UI, and gives way to them (on Linux a nice value is per thread).
  if (priorityRaised && process.platform === 'linux') setPriority(0, 0);
  let ui: ControlSurface | undefined;
  const debugLoads: DebugLoad[] = [];
  let stopping = false;
  let deviceWait: { stop: () => void } | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    stationLog.info(`${signal}: leaving`);
    for (const load of debugLoads) load.stop();
    deviceWait?.stop();
    await ui?.close();
    await station.close();
    stationLog.info('stopped');
    exitProcess(0, lastWord);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    const selection = await station.selectDevices({ inputId: args.input ?? null, outputId: args.output ?? null });
    audioLog.info(`input ${selection.inputId ?? 'default'} (${selection.inputState}), output ${selection.outputId ?? 'default'} (${selection.outputState})`);
  } catch (e) {
    if (!(e instanceof BridgeError)) throw e;
    audioLog.error(`error ${e.code}${e.field ? ` (${e.field})` : ''}: ${e.message}`);
    // With a UI the operator can see the problem (the Devices screen shows it) and pick a device once one is there;
    // the station serves its UI and signalling meanwhile. Without one, nobody could: say so and stop.
    if (!args.ui) {
      // A SIGINT meanwhile (a supervisor that read the error) must not turn this exit into a clean one.
      stopping = true;
      await station.close();
      exitProcess(3, lastWord);
    }
    audioLog.warn('starting without sound devices: they open when one appears, or choose them on the Devices screen');
    deviceWait = awaitDevices(station, { inputId: args.input ?? null, outputId: args.output ?? null }, 3000, log);
  }

  let lastState = '';
  const metersEvery = args['meters-every'] ?? 1000;
  let lastMeters = 0;
  let lastHealth = 0;
  const healthLog = log.child({ component: 'health' });
  station.on('event', (name, payload) => {
    if (name === 'state') {
      const s = payload as { connection: string; lines: { line: string; talk: boolean; listen: boolean; talkers: { name: string }[] }[] };
      const text = `${s.connection} ${s.lines.map((l) => `${l.line}[${l.talk ? 'T' : '-'}${l.listen ? 'L' : '-'}${l.talkers.length ? ' ' + l.talkers.map((t) => t.name).join('+') : ''}]`).join(' ')}`;
      if (text !== lastState) log.child({ component: 'state' }).info(text);
      lastState = text;
    } else if (name === 'meters' && metersEvery > 0 && Date.now() - lastMeters >= metersEvery) {
      lastMeters = Date.now();
      const m = payload as { input: { peakDb: number; rmsDb: number }; output: { peakDb: number; rmsDb: number }; peers: Record<string, { rmsDb: number }> };
      const peers = Object.entries(m.peers).map(([id, p]) => `${id} ${p.rmsDb.toFixed(1)}`).join(', ');
      log.child({ component: 'meters' }).info(`mic ${m.input.rmsDb.toFixed(1)}/${m.input.peakDb.toFixed(1)} out ${m.output.rmsDb.toFixed(1)}/${m.output.peakDb.toFixed(1)} dBFS${peers ? ` | ${peers}` : ''}`);
    } else if (name === 'health' && metersEvery > 0 && Date.now() - lastHealth >= metersEvery) {
      lastHealth = Date.now();
      const h = payload as { peers: { stationId: string; connection: string; rttMs: number | null; jitterMs: number; lossRate: number; playoutDelayMs: number; targetDelayMs: number; concealedFrames: number }[] };
      const sp = (payload as { speaker?: { marginMs: number; drainMs: number; tickWaitMs: number } }).speaker;
      if (sp) healthLog.info(`speaker margin ${sp.marginMs.toFixed(1)} ms (covers a drain of ${sp.drainMs.toFixed(1)} ms; a tick waited up to ${sp.tickWaitMs.toFixed(1)} ms)`);
      for (const p of h.peers) {
        healthLog.info(`${p.stationId} ${p.connection} rtt ${p.rttMs === null ? '-' : p.rttMs.toFixed(1)} ms jitter ${p.jitterMs.toFixed(1)} ms loss ${(p.lossRate * 100).toFixed(1)}% playout ${p.playoutDelayMs.toFixed(1)}/${p.targetDelayMs.toFixed(1)} ms concealed ${p.concealedFrames}`);
      }
    }
  });

  if (!joinFromUi) {
    await station.connect(config);
    for (const line of args.talk ?? []) station.setTalk(line, true);
    for (const line of args.mute ?? []) station.setListen(line, false);
  }
  if (stall) debugLoads.push(stallMainThread(stall.ms, stall.everyMs, log));
  if (garbage) debugLoads.push(churnGarbage(garbage, log));
  if (args.ui) {
    ui = await serveControlSurface({
      control,
      host: args['ui-bind'] ?? '127.0.0.1',
      port: uiPort,
      ...(uiToken === undefined ? {} : { token: uiToken }),
      allowRemote: args['allow-remote'] ?? false,
      ...(args.settings ? { settingsFile: args.settings } : {}),
      ...(args['ui-root'] ? { rendererRoot: args['ui-root'] } : {}),
      log,
    });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`station: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  exitProcess(1);
});
