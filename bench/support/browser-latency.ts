/**
 * The browser half of the latency bench: station -> browser, browser -> station and browser -> browser (two Chromium
 * guests on one line, the anchor a crew would otherwise hack together), measured on the same rig with the same
 * chirp bursts as station -> station. Also how long a newcomer waits from joining to hearing the line.
 *
 * The browsers run on another machine of the LAN (one network namespace joined to this one by a veth pair), and the
 * stations and the signalling server listen on this machine's address on that link: a browser's page and signalling,
 * and its media to or from a station, cross a real link, not loopback. For browser -> browser the listener runs on
 * this machine, so the call between the two browsers crosses the link as well.
 */
import { sleep, type PulseHarness } from '../../testkit/pulse';
import { StationProcess } from '../../testkit/station-process';
import { GuestBrowser, buildGuest } from '../../testkit/chromium';
import { SignallingServer, builtGuestDir } from '../../electron/signalling/server';
import { createLan, type Lan } from '../../testkit/lan-link';
import { RIG_FAR_ID, RIG_MIC_ID } from './latency-rig';
import { median } from './chirp';
import { describePath, selectedPaths } from '../../testkit/guest-receiver';

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

interface InboundAudio {
  packetsReceived: number;
  jitterBufferDelay: number;
  jitterBufferTargetDelay: number;
  jitterBufferEmittedCount: number;
  concealedSamples: number;
  totalSamplesReceived: number;
}

/** The guest's inbound audio counters, summed over its peer connections (cumulative, as getStats reports them). */
async function inboundAudio(g: GuestBrowser): Promise<InboundAudio> {
  return g.page.evaluate(async () => {
    const w = globalThis as unknown as { partylinePeers?: () => { getStats(): Promise<Map<string, Record<string, unknown>>> }[] };
    const sum = { packetsReceived: 0, jitterBufferDelay: 0, jitterBufferTargetDelay: 0, jitterBufferEmittedCount: 0, concealedSamples: 0, totalSamplesReceived: 0 };
    for (const pc of w.partylinePeers?.() ?? []) {
      for (const s of (await pc.getStats()).values()) {
        if (s.type !== 'inbound-rtp') continue;
        for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += Number(s[k] ?? 0);
      }
    }
    return sum;
  });
}

/** The guest's selected candidate pairs, as a log line: proof of the path its media took. */
async function mediaPaths(g: GuestBrowser): Promise<string> {
  return (await selectedPaths(g.page)).map(describePath).join(', ') || 'no selected candidate pair';
}

async function firstPacketAfter(g: GuestBrowser, startedAt: number): Promise<number> {
  for (;;) {
    if ((await inboundAudio(g)).packetsReceived > 0) return performance.now() - startedAt;
    if (performance.now() - startedAt > 15000) throw new Error('the browser received no RTP within 15 s');
    await sleep(10);
  }
}

/** Chrome's mean jitter-buffer delay and target over `ms`, in ms. */
async function jitterBuffer(g: GuestBrowser, ms: number): Promise<{ delayMs: number; targetMs: number }> {
  const a = await inboundAudio(g);
  await sleep(ms);
  const b = await inboundAudio(g);
  const emitted = Math.max(1, b.jitterBufferEmittedCount - a.jitterBufferEmittedCount);
  return { delayMs: ((b.jitterBufferDelay - a.jitterBufferDelay) / emitted) * 1000, targetMs: ((b.jitterBufferTargetDelay - a.jitterBufferTargetDelay) / emitted) * 1000 };
}

/**
 * Waits for Chrome's jitter buffer to drain to its target. A connection that came up while the machine was busy
 * starts with a backlog that Chrome sheds at only a few percent of real time (30 ms per second): bursts sent
 * meanwhile would measure the backlog, not the path.
 */
async function settle(g: GuestBrowser, log: (l: string) => void): Promise<void> {
  const started = performance.now();
  let last = { delayMs: NaN, targetMs: NaN };
  while (performance.now() - started < 15000) {
    last = await jitterBuffer(g, 500);
    if (last.delayMs - last.targetMs < 25) break;
  }
  log(`  Chrome's jitter buffer at ${last.delayMs.toFixed(0)} ms (target ${last.targetMs.toFixed(0)} ms) after ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Measures with a browser listening, and says what Chrome's jitter buffer did meanwhile: a browser's lag is mostly
 * its NetEq delay, and that target grows with the arrival jitter it sees (on a loaded machine, a lot).
 */
async function measureIntoBrowser(listener: GuestBrowser, pulse: PulseHarness, bursts: number, measure: MeasureBursts): Promise<{ lags: number[]; receiver: string }> {
  const before = await inboundAudio(listener);
  const lags = await measure(pulse, bursts);
  const after = await inboundAudio(listener);
  const emitted = after.jitterBufferEmittedCount - before.jitterBufferEmittedCount;
  const ms = (k: 'jitterBufferDelay' | 'jitterBufferTargetDelay') => (emitted > 0 ? (((after[k] - before[k]) / emitted) * 1000).toFixed(0) : '?');
  const concealed = after.totalSamplesReceived > before.totalSamplesReceived ? (after.concealedSamples - before.concealedSamples) / (after.totalSamplesReceived - before.totalSamplesReceived) : 0;
  return { lags, receiver: `  Chrome receiver over the bursts: jitter buffer ${ms('jitterBufferDelay')} ms (target ${ms('jitterBufferTargetDelay')} ms), concealed ${(concealed * 100).toFixed(1)} %` };
}

/** The rig's left channel, as the browser's microphone. */
const RIG_MIC = { source: 'rig.monitor', sourceChannel: 'front-left' };

/**
 * A guest on the LAN's other machine. Its page comes over plain http, no secure context off loopback: the browser is
 * told to treat this one origin as secure, so its microphone works.
 */
async function talkingGuest(pulse: PulseHarness, lan: Lan | undefined, http: string, station: string, devices: { source?: string; sourceChannel?: string; sink?: string }, talk: boolean): Promise<{ g: GuestBrowser; joinedAt: number }> {
  const g = await GuestBrowser.launch({ pulse, station, ...devices, ...(lan ? { netns: lan.ns } : {}), args: [`--unsafely-treat-insecure-origin-as-secure=${new URL(http).origin}`] });
  try {
    await g.join(http, { name: `Guest ${station}`, line: 'main', processing: RAW });
    const joinedAt = performance.now();
    if (talk) await g.tap('#talk');
    return { g, joinedAt };
  } catch (e) {
    await g.close();
    throw e;
  }
}

export async function measureBrowserLatency(pulse: PulseHarness, bursts: number, chunkMs: 5 | 10, measure: MeasureBursts, log: (l: string) => void): Promise<BrowserLatency> {
  await buildGuest();
  const lan = await createLan();
  try {
    log(`browsers run in network namespace ${lan.ns} at ${lan.peerAddress}; stations and the signalling server listen on ${lan.hostAddress} (${lan.hostInterface}), the other end of the link`);
    return await overLan(pulse, lan, bursts, chunkMs, measure, log);
  } finally {
    await lan.close();
  }
}

async function overLan(pulse: PulseHarness, lan: Lan, bursts: number, chunkMs: 5 | 10, measure: MeasureBursts, log: (l: string) => void): Promise<BrowserLatency> {
  const common = ['--line', 'main', '--chunk-ms', String(chunkMs), '--meters-every', '0'];
  const per = (what: string, lags: number[]) => log(`${what}, ${lags.length} of ${bursts} bursts, per burst ms: ${lags.map((l) => l.toFixed(1)).join(' ')}`);

  // station -> browser: the station hosts (and serves the guest page).
  let s2b: number[];
  let s2bReceiver: string;
  {
    const a = new StationProcess(['--name', 'A', '--host', '--bind', lan.hostAddress, '--port', '0', '--insecure', '--talk', 'main', '--input', RIG_MIC_ID, '--output', pulse.devices('a').serverOutputId, ...common], pulse.env);
    let g: GuestBrowser | undefined;
    try {
      const http = `http://${await a.hostedAt(lan.hostAddress)}`;
      ({ g } = await talkingGuest(pulse, lan, http, 'b', { sink: 'rig_far' }, false));
      await firstPacketAfter(g, performance.now());
      log(`  station A -> browser B media: ${await mediaPaths(g)}`);
      await settle(g, log);
      ({ lags: s2b, receiver: s2bReceiver } = await measureIntoBrowser(g, pulse, bursts, measure));
    } finally {
      await g?.close();
      await a.stop();
    }
    per('station A -> browser B', s2b);
    log(s2bReceiver);
  }

  const server = new SignallingServer({ port: 0, host: lan.hostAddress, staticDir: builtGuestDir() });
  const http = (await server.start()).url.replace('ws://', 'http://');
  try {
    // browser -> station: the browser talks first; the station joins (and offers) later.
    let b2s: number[];
    let joinToAudio: number;
    {
      const { g } = await talkingGuest(pulse, lan, http, 'a', RIG_MIC, true);
      const b = new StationProcess(['--name', 'B', '--server', http.replace('http://', 'ws://'), '--insecure', '--input', pulse.devices('b').serverInputId, '--output', RIG_FAR_ID, ...common], pulse.env);
      try {
        const joined = await b.waitFor(/^(.*) \[signal\] joined main/);
        const first = await b.waitFor(/^(.*) \[peer \S+\] first RTP/, 20000);
        joinToAudio = clockMs(first[0]) - clockMs(joined[0]);
        log(`  browser A -> station B media: ${await mediaPaths(g)}`);
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
    let b2bReceiver: string;
    let browserJoinToAudio: number;
    {
      const { g: talker } = await talkingGuest(pulse, lan, http, 'a', RIG_MIC, true);
      let listener: GuestBrowser | undefined;
      try {
        // The listener on this machine: the call between the two browsers crosses the link too.
        const joined = await talkingGuest(pulse, undefined, http, 'b', { sink: 'rig_far' }, false);
        listener = joined.g;
        browserJoinToAudio = await firstPacketAfter(listener, joined.joinedAt);
        log(`  browser A -> browser B media: ${await mediaPaths(listener)}`);
        await settle(listener, log);
        ({ lags: b2b, receiver: b2bReceiver } = await measureIntoBrowser(listener, pulse, bursts, measure));
      } finally {
        await listener?.close();
        await talker.close();
      }
      per('browser A -> browser B', b2b);
      log(b2bReceiver);
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
