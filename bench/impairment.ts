/**
 * Playout under network impairment, station against browser: the same seeded impairment profiles, applied by the
 * same UDP relay, to a station->station call (separate processes, PortAudio on PulseAudio) and to a
 * Chromium->Chromium call. Per profile: playout delay (median, p95), the share of audio concealed or stretched, and
 * the segmental SNR of what came out against the speech-like reference that went in.
 *
 *   npx tsx bench/impairment.ts
 *
 * The last line is JSON: {"bench":"impairment","profiles":[...],"worse_than_browser":N}. With
 * IMPAIRMENT_BENCH_DUMP=DIR, the reference and every recording are written there as raw s16le mono 48 kHz.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerHealth } from '../electron/common/contract';
import { SignallingServer } from '../electron/signalling/server';
import { PulseHarness, sleep } from '../testkit/pulse';
import { SignallingProxy } from '../testkit/signalling-proxy';
import { StationProcess } from '../testkit/station-process';
import { UdpRelay, type Impairment } from '../testkit/udp-relay';
import { BrowserPair, type BrowserReceiveStats } from './support/browser-pair';
import { RATE, segmentalSnr, speechLike } from './support/voice-quality';

export interface Profile {
  name: string;
  impairment: Impairment;
}

/** The first is the clean path every other is compared with (vsCleanDb). */
const ALL_PROFILES: Profile[] = [
  { name: 'clean', impairment: {} },
  { name: 'loss-5%', impairment: { loss: 0.05 } },
  { name: 'loss-20%', impairment: { loss: 0.2 } },
  { name: 'burst-10%x4', impairment: { loss: 0.1, burstLength: 4 } },
  { name: 'jitter-40ms-reorder', impairment: { delayMs: 5, jitterMs: 40, reorder: true } },
];

/** IMPAIRMENT_BENCH_PROFILES=clean,loss-5% runs only those (while tuning); the clean one always runs first. */
export const PROFILES: Profile[] = ((only) =>
  only ? ALL_PROFILES.filter((p, i) => i === 0 || only.split(',').includes(p.name)) : ALL_PROFILES)(process.env.IMPAIRMENT_BENCH_PROFILES);

export interface SystemFigures {
  delayMedianMs: number;
  delayP95Ms: number;
  /** Share of played audio that was concealed. */
  concealedRatio: number;
  /** Concealed or time-stretched (station: frames touched; browser: samples concealed, inserted or removed). */
  concealedOrStretchedRatio: number;
  segSnrDb: number;
  /** segSnrDb minus the clean profile's, same system. */
  vsCleanDb: number;
  /** What the relay dropped of this system's RTP in the window. */
  relayLoss: number;
}

const SEED = 4242;
const SIGNAL_SECONDS = 8;
const SETTLE_MS = 2500;
/** After connecting: devices started, first packets through, playout at its target, before the first profile. */
const WARM_UP_MS = 4000;
/** Judged part of the reference: after the playout has seen the signal start, before its end. */
const JUDGED = { from: RATE * 1, to: RATE * 7.5 };
const STATION_FRAME_MS = 10;

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))] as number;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

interface Leg {
  system: 'station' | 'browser';
  relayKey: string;
  micSink: string;
  speakerMonitor: string;
  /** Starts sampling receive statistics; the returned stop gives the figures over the window. */
  observe(): Promise<() => Promise<{ delays: number[]; concealedRatio: number; concealedOrStretchedRatio: number }>>;
}

async function measure(pulse: PulseHarness, relay: UdpRelay, leg: Leg, profile: Profile, reference: Int16Array): Promise<Omit<SystemFigures, 'vsCleanDb'>> {
  relay.setImpairment(leg.relayKey, profile.impairment);
  await sleep(SETTLE_MS);
  relay.resetStats();
  const stopObserving = await leg.observe();
  const rec = pulse.record(leg.speakerMonitor);
  await sleep(100);
  const injection = pulse.inject(leg.micSink, reference);
  await injection.done;
  await sleep(1500); // the tail still in the playout buffer and the devices
  const recording = await rec.stop();
  const observed = await stopObserving();
  const path = relay.stats(leg.relayKey);
  const quality = segmentalSnr(reference, recording, JUDGED.from, JUDGED.to);
  const dump = process.env.IMPAIRMENT_BENCH_DUMP;
  if (dump) {
    mkdirSync(dump, { recursive: true });
    writeFileSync(join(dump, 'reference.s16'), reference);
    writeFileSync(join(dump, `${leg.system}-${profile.name}.s16`), recording);
  }
  return {
    delayMedianMs: round(quantile(observed.delays, 0.5), 1),
    delayP95Ms: round(quantile(observed.delays, 0.95), 1),
    concealedRatio: round(observed.concealedRatio, 4),
    concealedOrStretchedRatio: round(observed.concealedOrStretchedRatio, 4),
    segSnrDb: round(quality.segSnrDb),
    relayLoss: round(path.rtpIn ? path.dropped / path.rtpIn : 0, 4),
  };
}

function stationLeg(pulse: PulseHarness, receiver: StationProcess, sender: string): Leg {
  return {
    system: 'station',
    relayKey: 'A->B',
    micSink: pulse.devices('a').micSink,
    speakerMonitor: pulse.devices('b').speakerMonitor,
    async observe() {
      const from = receiver.events.length;
      const startedAt = performance.now();
      return async () => {
        const health = receiver.events
          .slice(from)
          .filter((e) => e.event === 'health')
          .map((e) => (e.payload as { peers: PeerHealth[] }).peers.find((p) => p.stationId === sender))
          .filter((p): p is PeerHealth => p !== undefined);
        const first = health[0];
        const last = health.at(-1);
        const frames = (performance.now() - startedAt) / STATION_FRAME_MS;
        if (!first || !last) return { delays: [], concealedRatio: NaN, concealedOrStretchedRatio: NaN };
        const concealed = last.concealedFrames - first.concealedFrames;
        const stretched = (last.stretchedFrames ?? 0) - (first.stretchedFrames ?? 0);
        return { delays: health.map((h) => h.playoutDelayMs), concealedRatio: concealed / frames, concealedOrStretchedRatio: (concealed + stretched) / frames };
      };
    },
  };
}

function browserLeg(pulse: PulseHarness, pair: BrowserPair): Leg {
  return {
    system: 'browser',
    relayKey: 'C->D',
    micSink: pulse.devices('c').micSink,
    speakerMonitor: pulse.devices('d').speakerMonitor,
    async observe() {
      const samples: BrowserReceiveStats[] = [await pair.receiveStats()];
      let running = true;
      const polling = (async () => {
        while (running) {
          await sleep(250);
          samples.push(await pair.receiveStats());
        }
      })();
      return async () => {
        running = false;
        await polling;
        const delays: number[] = [];
        for (let i = 1; i < samples.length; i++) {
          const [a, b] = [samples[i - 1] as BrowserReceiveStats, samples[i] as BrowserReceiveStats];
          const emitted = b.jitterBufferEmittedCount - a.jitterBufferEmittedCount;
          if (emitted > 0) delays.push(((b.jitterBufferDelay - a.jitterBufferDelay) / emitted) * 1000);
        }
        const first = samples[0] as BrowserReceiveStats;
        const last = samples.at(-1) as BrowserReceiveStats;
        const total = last.totalSamplesReceived - first.totalSamplesReceived;
        const concealed = last.concealedSamples - first.concealedSamples;
        const stretched =
          last.insertedSamplesForDeceleration - first.insertedSamplesForDeceleration + (last.removedSamplesForAcceleration - first.removedSamplesForAcceleration);
        return { delays, concealedRatio: concealed / total, concealedOrStretchedRatio: (concealed + stretched) / total };
      };
    },
  };
}

type Measured = Omit<SystemFigures, 'vsCleanDb'>;

function describe(system: string, f: Measured): string {
  return (
    `${system}: delay ${f.delayMedianMs}/${f.delayP95Ms} ms, concealed ${(f.concealedRatio * 100).toFixed(1)} %, ` +
    `+stretched ${(f.concealedOrStretchedRatio * 100).toFixed(1)} %, segSNR ${f.segSnrDb} dB (relay dropped ${(f.relayLoss * 100).toFixed(1)} %)`
  );
}

/** Every profile through a station->station call; the stations run alone, so nothing else competes for the CPU. */
async function stationProfiles(pulse: PulseHarness, relay: UdpRelay, reference: Int16Array, log: (line: string) => void): Promise<Measured[]> {
  const server = new SignallingServer({ port: 0, host: '127.0.0.1', lines: {} });
  const { url } = await server.start();
  const proxy = await SignallingProxy.start(url, relay);
  const args = (name: string, extra: string[]) => {
    const d = pulse.devices(name.toLowerCase());
    return ['--name', name, '--server', proxy.url, '--insecure', '--line', 'main', '--input', d.inputId, '--output', d.outputId, '--ui', ...extra];
  };
  const a = new StationProcess(args('A', ['--talk', 'main']), pulse.env);
  const b = new StationProcess(args('B', []), pulse.env);
  try {
    await Promise.all([a.waitFor(/\[peer B\] connected/), b.waitFor(/\[peer A\] connected/)]);
    await b.connectControl();
    await sleep(WARM_UP_MS);
    return await eachProfile(pulse, relay, stationLeg(pulse, b, 'A'), 'station', reference, log);
  } finally {
    // Device trouble or a lost peer explains odd figures: say so next to them.
    for (const st of [a, b]) for (const line of st.lines.filter((l) => /\[audio\] .*stalled|no-rtp|failed/.test(l))) log(`  ${st.label}: ${line}`);
    await Promise.all([a.stop(), b.stop()]);
    await proxy.close();
    await server.close();
  }
}

/** Every profile in turn over one leg, each figure logged as it is measured. */
async function eachProfile(
  pulse: PulseHarness,
  relay: UdpRelay,
  leg: Parameters<typeof measure>[2],
  system: 'station' | 'browser',
  reference: Int16Array,
  log: (line: string) => void,
): Promise<Measured[]> {
  const results: Measured[] = [];
  for (const profile of PROFILES) {
    const result = await measure(pulse, relay, leg, profile, reference);
    results.push(result);
    log(`${profile.name.padEnd(20)} ${describe(system, result)}`);
  }
  return results;
}

async function browserProfiles(pulse: PulseHarness, relay: UdpRelay, reference: Int16Array, log: (line: string) => void): Promise<Measured[]> {
  const pair = await BrowserPair.connect(pulse, relay, { label: 'C', station: 'c' }, { label: 'D', station: 'd' });
  try {
    await sleep(WARM_UP_MS);
    return await eachProfile(pulse, relay, browserLeg(pulse, pair), 'browser', reference, log);
  } finally {
    await pair.close();
  }
}

export async function runImpairmentBench(log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<{
  bench: 'impairment';
  profiles: { name: string; station: SystemFigures; browser: SystemFigures }[];
  worse_than_browser: number;
}> {
  const reference = speechLike(SIGNAL_SECONDS);
  const pulse = await PulseHarness.start(['a', 'b', 'c', 'd']);
  const relay = new UdpRelay(SEED);
  try {
    const station = await stationProfiles(pulse, relay, reference, log);
    const browser = await browserProfiles(pulse, relay, reference, log);
    const withClean = (results: Measured[]) => results.map((r) => ({ ...r, vsCleanDb: round(r.segSnrDb - (results[0] as Measured).segSnrDb) }));
    const [s, b] = [withClean(station), withClean(browser)];
    const profiles = PROFILES.map((p, i) => ({ name: p.name, station: s[i] as SystemFigures, browser: b[i] as SystemFigures }));
    return { bench: 'impairment', profiles, worse_than_browser: profiles.filter((p) => p.station.segSnrDb < p.browser.segSnrDb).length };
  } finally {
    relay.close();
    await pulse.stop();
  }
}

if (require.main === module) {
  runImpairmentBench()
    .then((result) => process.stdout.write(JSON.stringify(result) + '\n'))
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    });
}
