/**
 * Two headless Chromium pages, one sending its microphone to the other over a plain RTCPeerConnection whose media
 * crosses a UdpRelay: the reference that the station is compared against. Each browser has its own PulseAudio
 * devices (PULSE_SOURCE / PULSE_SINK); SDP goes from page to page through Node, with every candidate rewritten to the
 * relay. The page is served from http://127.0.0.1 (a secure context for getUserMedia).
 */
import { CHROMIUM_ARGS } from '../../testkit/chromium';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { PulseHarness } from '../../testkit/pulse';
import type { UdpRelay } from '../../testkit/udp-relay';

const run = promisify(execFile);

/** The receiver's inbound-rtp counters that describe its jitter buffer (cumulative). */
export interface BrowserReceiveStats {
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  totalSamplesReceived: number;
  concealedSamples: number;
  insertedSamplesForDeceleration: number;
  removedSamplesForAcceleration: number;
  packetsLost: number;
  packetsReceived: number;
  jitter: number;
}

// Runs in the page. Raw audio: no echo cancellation, noise suppression or gain control, as the station sends it.
const PAGE = `<!doctype html><meta charset=utf-8><title>impairment bench</title><script>
let pc;
const gathered = () => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
});
window.bench = {
  async start(send, sourceLabel) {
    // Both ask for the microphone: Chromium hides its addresses behind mDNS names from a page without it. The source
    // is chosen by name: Chromium's "default" follows the daemon's default source, not PULSE_SOURCE.
    const mic = (await navigator.mediaDevices.enumerateDevices()).find((d) => d.kind === 'audioinput' && d.label === sourceLabel);
    if (!mic) throw new Error('no microphone named ' + sourceLabel);
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { deviceId: { exact: mic.deviceId }, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    pc = new RTCPeerConnection();
    if (send) stream.getAudioTracks().forEach((t) => pc.addTrack(t, stream));
    else {
      stream.getTracks().forEach((t) => t.stop());
      pc.addTransceiver('audio', { direction: 'recvonly' });
    }
    pc.ontrack = (e) => {
      const audio = new Audio();
      audio.srcObject = new MediaStream([e.track]);
      audio.play();
    };
  },
  async offer() {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered();
    return pc.localDescription.sdp;
  },
  async answer(sdp) {
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered();
    return pc.localDescription.sdp;
  },
  async accept(sdp) {
    await pc.setRemoteDescription({ type: 'answer', sdp });
  },
  state() {
    return pc.connectionState;
  },
  async receiveStats() {
    for (const s of (await pc.getStats()).values()) if (s.type === 'inbound-rtp' && s.kind === 'audio') return s;
    return null;
  },
};
</script>`;

interface Browser {
  context: BrowserContext;
  page: Page;
  userDataDir: string;
  source: string;
  sourceModule: string;
}

export class BrowserPair {
  private constructor(
    private readonly http: Server,
    private readonly pulse: PulseHarness,
    private readonly sender: Browser,
    private readonly receiver: Browser,
  ) {}

  /** `from` sends what is injected into its station's mic sink; `to` plays it to its speaker. Labels match the relay's. */
  static async connect(pulse: PulseHarness, relay: UdpRelay, from: { label: string; station: string }, to: { label: string; station: string }): Promise<BrowserPair> {
    const http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
    const sender = await launch(pulse, from.station, url);
    const receiver = await launch(pulse, to.station, url);
    const pair = new BrowserPair(http, pulse, sender, receiver);
    try {
      await sender.page.evaluate(`bench.start(true, ${JSON.stringify(sender.source)})`);
      await receiver.page.evaluate(`bench.start(false, ${JSON.stringify(receiver.source)})`);
      const offer = (await sender.page.evaluate('bench.offer()')) as string;
      const relayedOffer = await relay.rewriteSdp(offer, { owner: from.label, peer: to.label });
      const answer = (await receiver.page.evaluate(`bench.answer(${JSON.stringify(relayedOffer)})`)) as string;
      await sender.page.evaluate(`bench.accept(${JSON.stringify(await relay.rewriteSdp(answer, { owner: to.label, peer: from.label }))})`);
      const until = Date.now() + 15_000;
      while ((await receiver.page.evaluate('bench.state()')) !== 'connected') {
        if (Date.now() > until) throw new Error(`browsers did not connect through the relay (offer candidates: ${relayedOffer.split('\n').filter((l) => l.startsWith('a=candidate')).length})`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return pair;
    } catch (e) {
      await pair.close();
      throw e;
    }
  }

  async receiveStats(): Promise<BrowserReceiveStats> {
    return (await this.receiver.page.evaluate('bench.receiveStats()')) as BrowserReceiveStats;
  }

  async close(): Promise<void> {
    for (const b of [this.sender, this.receiver]) {
      await b.context.close().catch(() => undefined);
      await run('pactl', ['unload-module', b.sourceModule], { env: this.pulse.env }).catch(() => undefined);
      rmSync(b.userDataDir, { recursive: true, force: true });
    }
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

async function launch(pulse: PulseHarness, station: string, url: string): Promise<Browser> {
  const devices = pulse.devices(station);
  // Chromium offers no monitor source as a microphone: the mic sink's monitor is remapped into a source of its own.
  const source = `${station}_bench_voice`;
  const sourceModule = (
    await run(
      'pactl',
      // Stereo (the mono monitor on both channels): Chromium cannot open a mono remapped source.
      ['load-module', 'module-remap-source', `master=${devices.micSink}.monitor`, `source_name=${source}`, 'channels=2', 'channel_map=front-left,front-right', 'master_channel_map=mono,mono', `source_properties=device.description=${source}`],
      { env: pulse.env },
    )
  ).stdout.trim();
  const userDataDir = mkdtempSync(join(tmpdir(), 'partyline-bench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: false,
    ignoreDefaultArgs: ['--mute-audio'],
    args: [
      ...CHROMIUM_ARGS,
      '--use-fake-ui-for-media-stream',
    ],
    env: { ...pulse.env, PULSE_SOURCE: source, PULSE_SINK: devices.speakerMonitor.replace(/\.monitor$/, '') },
  });
  await context.grantPermissions(['microphone']);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url);
  return { context, page, userDataDir, source, sourceModule };
}
