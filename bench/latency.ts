/**
 * One-way mouth-to-ear latency, station A -> station B over loopback, against the floor of the sound-card bridge
 * itself (naudiodon capture -> playback direct, same devices, same chunk and queue sizes), in one run.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { sleep, type PulseHarness } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { burstLag, burstTrain, deinterleave, findBursts, median } from './support/chirp';
import { recordRig, RIG_FAR_ALSA_ID, RIG_FAR_ID, RIG_MIC_ALSA_ID, RIG_MIC_ID, startRig } from './support/latency-rig';
import { measureBrowserLatency } from './support/browser-latency';

export interface LatencyResult {
  bench: 'latency';
  station_to_station_ms: number;
  bridge_floor_ms: number;
  /** The same floor through PortAudio and ALSA's pulse plugin: what the sound server's native protocol saves. */
  alsa_plugin_floor_ms: number;
  /** The sound server's own loop (pacat | pacat at 5 ms): what no client of it can beat. */
  native_floor_ms: number;
  engine_added_ms: number;
  engine_over_native_ms: number;
  bursts: number;
  [extra: string]: unknown;
}

export interface LatencyOptions {
  bursts?: number;
  chunkMs?: 5 | 10;
  log?: (line: string) => void;
}

/** Plays the burst train into the rig's microphone and returns the far end's per-burst lag in ms. */
export async function measureBursts(pulse: PulseHarness, bursts: number): Promise<number[]> {
  const [ref, far] = deinterleave(await recordRig(pulse, burstTrain(bursts).pcm));
  const lags: number[] = [];
  for (const onset of findBursts(ref)) {
    const lag = burstLag(ref, far, onset);
    if (lag) lags.push(lag.lagMs);
  }
  return lags;
}

async function bridgeFloor(pulse: PulseHarness, bursts: number, chunkMs: 5 | 10, mic = RIG_MIC_ID, far = RIG_FAR_ID): Promise<number[]> {
  pulse.adoptInThisProcess();
  const bridge = require('../native/bridge') as typeof import('../native/bridge');
  // The floor holds at most one chunk between the callbacks: anything more would be latency of our own making.
  let held = new Int16Array(0);
  const capture = new bridge.CaptureStream({
    deviceId: mic,
    chunkMs,
    onChunk: (pcm) => {
      const joined = new Int16Array(held.length + pcm.length);
      joined.set(held);
      joined.set(pcm, held.length);
      held = joined.subarray(Math.max(0, joined.length - pcm.length));
    },
  });
  const playback = new bridge.PlaybackStream({
    deviceId: far,
    chunkMs,
    // The station's own speaker queue: the floor is what the bridge costs the station.
    queueChunks: 2,
    source: {
      pull: (n) => {
        const out = new Int16Array(n);
        out.set(held.subarray(0, n));
        held = held.subarray(Math.min(n, held.length));
        return out;
      },
    },
  });
  const problems: string[] = [];
  capture.on('error', (e) => problems.push(e.message));
  playback.on('error', (e) => problems.push(e.message));
  try {
    await sleep(500);
    const lags = await measureBursts(pulse, bursts);
    if (problems.length) throw new Error(`bridge floor: ${problems.join('; ')}`);
    return lags;
  } finally {
    await Promise.all([capture.stop(), playback.stop()]);
  }
}

const NATIVE_LATENCY_MS = 5;

/**
 * The sound server's native loop on the rig: `pacat --record` from its microphone piped straight (a kernel pipe, no
 * JavaScript in between) into `pacat --playback` to its far end, both asking for 5 ms.
 */
async function nativeFloor(pulse: PulseHarness, bursts: number): Promise<number[]> {
  const format = ['--format=s16le', '--rate=48000', '--channels=1', '--raw', `--latency-msec=${NATIVE_LATENCY_MS}`];
  const play = spawn('pacat', ['--playback', '--device=rig_far', ...format], { env: pulse.env, stdio: ['pipe', 'ignore', 'ignore'] });
  // The player first: audio the recorder wrote before it connected would wait in the pipe for good.
  await sleep(300);
  const record = spawn('pacat', ['--record', '--device=rig_mic', ...format], { env: pulse.env, stdio: ['ignore', play.stdin as Writable, 'ignore'] });
  play.stdin?.destroy();
  try {
    await sleep(500);
    if (play.exitCode !== null || record.exitCode !== null) throw new Error(`native floor: pacat exited (playback ${play.exitCode}, record ${record.exitCode})`);
    return await measureBursts(pulse, bursts);
  } finally {
    record.kill('SIGKILL');
    play.kill('SIGKILL');
  }
}

/** Starts A (hosting, talking on `main`) and B (listening); resolves when B has heard A's first RTP. */
export async function startStationPair(pulse: PulseHarness, chunkMs: 5 | 10): Promise<{ a: StationProcess; b: StationProcess }> {
  // Frames as long as the chunks: a frame longer than the pull keeps the playout out of low latency.
  const common = ['--line', 'main', '--chunk-ms', String(chunkMs), '--frame-ms', String(chunkMs), '--meters-every', '0'];
  const a = new StationProcess(['--name', 'A', '--host', '--port', '0', '--insecure', '--talk', 'main', '--input', RIG_MIC_ID, '--output', pulse.devices('a').serverOutputId, ...common], pulse.env);
  const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
  const b = new StationProcess(['--name', 'B', '--server', url, '--insecure', '--input', pulse.devices('b').serverInputId, '--output', RIG_FAR_ID, ...common], pulse.env);
  await b.waitFor(/\[peer A\] first RTP/, 20000);
  return { a, b };
}

export async function runLatencyBench(options: LatencyOptions = {}): Promise<LatencyResult> {
  const bursts = options.bursts ?? 22;
  const chunkMs = options.chunkMs ?? 10;
  const log = options.log ?? ((l: string) => console.log(l));
  const pulse = await startRig(['a', 'b']);
  try {
    const floor = await bridgeFloor(pulse, bursts, chunkMs);
    log(`bridge floor (capture -> playback on the sound server, ${chunkMs} ms chunks, queue 2), per burst ms: ${floor.map((l) => l.toFixed(1)).join(' ')}`);
    const alsaFloor = await bridgeFloor(pulse, bursts, chunkMs, RIG_MIC_ALSA_ID, RIG_FAR_ALSA_ID);
    log(`bridge floor through PortAudio and ALSA's pulse plugin, per burst ms: ${alsaFloor.map((l) => l.toFixed(1)).join(' ')}`);
    const native = await nativeFloor(pulse, bursts);
    log(`native floor (pacat --record | pacat --playback, ${NATIVE_LATENCY_MS} ms asked of each), per burst ms: ${native.map((l) => l.toFixed(1)).join(' ')}`);
    const { a, b } = await startStationPair(pulse, chunkMs);
    let s2s: number[];
    try {
      await sleep(1000);
      s2s = await measureBursts(pulse, bursts);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    log(`station A -> station B, per burst ms: ${s2s.map((l) => l.toFixed(1)).join(' ')}`);
    for (const line of b.lines.filter((l) => /\[(playout|audio)\]/.test(l))) log(`  B ${line}`);
    const station = median(s2s);
    const floorMs = median(floor);
    const nativeMs = median(native);
    const result: LatencyResult = {
      bench: 'latency',
      station_to_station_ms: round(station),
      bridge_floor_ms: round(floorMs),
      alsa_plugin_floor_ms: round(median(alsaFloor)),
      native_floor_ms: round(nativeMs),
      engine_added_ms: round(station - floorMs),
      engine_over_native_ms: round(station - nativeMs),
      bursts: Math.min(s2s.length, floor.length, native.length),
    };
    log(`median: station->station ${result.station_to_station_ms} ms, bridge floor ${result.bridge_floor_ms} ms (${result.alsa_plugin_floor_ms} through ALSA's pulse plugin), engine adds ${result.engine_added_ms} ms (target <= 15 ms)`);
    log(
      `median: native floor ${result.native_floor_ms} ms, station->station over it ${result.engine_over_native_ms} ms; targets (not asserted): ` +
        `station->station <= 30 ms ${result.station_to_station_ms <= 30 ? 'met' : 'NOT met'}, over native <= 15 ms ${result.engine_over_native_ms <= 15 ? 'met' : 'NOT met'}`,
    );
    const browsers = await measureBrowserLatency(pulse, bursts, chunkMs, measureBursts, log);
    Object.assign(result, browsers, { ratio_vs_browser: Math.round((station / browsers.browser_to_browser_ms) * 100) / 100 });
    log(
      `median: station->browser ${browsers.station_to_browser_ms} ms, browser->station ${browsers.browser_to_station_ms} ms, browser->browser ${browsers.browser_to_browser_ms} ms; ` +
        `join to first audio: station ${browsers.join_to_audio_ms} ms, browser ${browsers.browser_join_to_audio_ms} ms`,
    );
    return result;
  } finally {
    await pulse.stop();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

if (require.main === module) {
  runLatencyBench().then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
