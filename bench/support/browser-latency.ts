/**
 * The browser half of the latency bench: station -> browser, browser -> station and browser -> browser (two Chromium
 * guests on one line, the anchor a crew would otherwise hack together), measured on the same rig with the same
 * chirp bursts as station -> station. Also how long a newcomer waits from joining to hearing the line.
 */
import { sleep, type PulseHarness } from '../../test/support/pulse';
import { StationProcess } from '../../test/support/station-process';
import { GuestBrowser, buildGuest } from '../../test/support/chromium';
import { SignallingServer, builtGuestDir } from '../../electron/signalling/server';
import { RIG_FAR_ID, RIG_MIC_ID } from './latency-rig';
import { median } from './chirp';

export interface BrowserLatency {
  station_to_browser_ms: number;
  browser_to_station_ms: number;
  browser_to_browser_ms: number;
  /** A station joins a line where a browser already talks: its `joined` to the first RTP it receives. */
  join_to_audio_ms: number;
  /** A browser joins a line where a browser already talks: admitted to the first RTP it receives. */
  browser_join_to_audio_ms: number;
}

type MeasureBursts = (pulse: PulseHarness, bursts: number) => Promise<number[]>;

/** Raw audio, as a station sends it: voice processing would reshape the chirps. */
const RAW = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

const clockMs = (line: string): number => {
  const m = /^(\d\d):(\d\d):(\d\d)\.(\d{3}) /.exec(line);
  if (!m) throw new Error(`no timestamp on log line: ${line}`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
};

async function firstPacketAfter(g: GuestBrowser, startedAt: number): Promise<number> {
  for (;;) {
    const received = await g.page.evaluate(async () => {
      const w = globalThis as unknown as { partylinePeers?: () => { getStats(): Promise<Map<string, { type: string; packetsReceived?: number }>> }[] };
      let n = 0;
      for (const pc of w.partylinePeers?.() ?? []) for (const s of (await pc.getStats()).values()) if (s.type === 'inbound-rtp') n += s.packetsReceived ?? 0;
      return n;
    });
    if (received > 0) return performance.now() - startedAt;
    if (performance.now() - startedAt > 15000) throw new Error('the browser received no RTP within 15 s');
    await sleep(10);
  }
}

/** The rig's left channel, as the browser's microphone. */
const RIG_MIC = { source: 'rig.monitor', sourceChannel: 'front-left' };

async function talkingGuest(pulse: PulseHarness, http: string, station: string, devices: { source?: string; sourceChannel?: string; sink?: string }, talk: boolean): Promise<{ g: GuestBrowser; joinedAt: number }> {
  const g = await GuestBrowser.launch({ pulse, station, ...devices });
  try {
    await g.join(http, { name: `Guest ${station}`, line: 'main', processing: RAW });
    const joinedAt = performance.now();
    if (talk) await g.page.click('#talk');
    return { g, joinedAt };
  } catch (e) {
    await g.close();
    throw e;
  }
}

export async function measureBrowserLatency(pulse: PulseHarness, bursts: number, chunkMs: 5 | 10, measure: MeasureBursts, log: (l: string) => void): Promise<BrowserLatency> {
  await buildGuest();
  const common = ['--line', 'main', '--chunk-ms', String(chunkMs), '--meters-every', '0'];
  const per = (what: string, lags: number[]) => log(`${what}, per burst ms: ${lags.map((l) => l.toFixed(1)).join(' ')}`);

  // station -> browser: the station hosts (and serves the guest page).
  let s2b: number[];
  {
    const a = new StationProcess(['--name', 'A', '--host', '--port', '0', '--talk', 'main', '--input', RIG_MIC_ID, '--output', pulse.devices('a').outputId, ...common], pulse.env);
    let g: GuestBrowser | undefined;
    try {
      const http = `http://${(await a.waitFor(/hosting ws:\/\/(\S+)/))[1]}`;
      ({ g } = await talkingGuest(pulse, http, 'b', { sink: 'rig_far' }, false));
      await firstPacketAfter(g, performance.now());
      await sleep(1000);
      s2b = await measure(pulse, bursts);
    } finally {
      await g?.close();
      await a.stop();
    }
    per('station A -> browser B', s2b);
  }

  const server = new SignallingServer({ port: 0, staticDir: builtGuestDir() });
  const http = (await server.start()).url.replace('ws://', 'http://');
  try {
    // browser -> station: the browser talks first; the station joins (and offers) later.
    let b2s: number[];
    let joinToAudio: number;
    {
      const { g } = await talkingGuest(pulse, http, 'a', RIG_MIC, true);
      const b = new StationProcess(['--name', 'B', '--server', http.replace('http://', 'ws://'), '--input', pulse.devices('b').inputId, '--output', RIG_FAR_ID, ...common], pulse.env);
      try {
        const joined = await b.waitFor(/^(.*) \[signal\] joined main/);
        const first = await b.waitFor(/^(.*) \[peer \S+\] first RTP/, 20000);
        joinToAudio = clockMs(first[0]) - clockMs(joined[0]);
        await sleep(1000);
        b2s = await measure(pulse, bursts);
      } finally {
        await b.stop();
        await g.close();
      }
      per('browser A -> station B', b2s);
    }

    // browser -> browser: the anchor.
    let b2b: number[];
    let browserJoinToAudio: number;
    {
      const { g: talker } = await talkingGuest(pulse, http, 'a', RIG_MIC, true);
      let listener: GuestBrowser | undefined;
      try {
        const joined = await talkingGuest(pulse, http, 'b', { sink: 'rig_far' }, false);
        listener = joined.g;
        browserJoinToAudio = await firstPacketAfter(listener, joined.joinedAt);
        await sleep(1000);
        b2b = await measure(pulse, bursts);
      } finally {
        await listener?.close();
        await talker.close();
      }
      per('browser A -> browser B', b2b);
    }
    return {
      station_to_browser_ms: round(median(s2b)),
      browser_to_station_ms: round(median(b2s)),
      browser_to_browser_ms: round(median(b2b)),
      join_to_audio_ms: round(joinToAudio),
      browser_join_to_audio_ms: round(browserJoinToAudio),
    };
  } finally {
    await server.close();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
