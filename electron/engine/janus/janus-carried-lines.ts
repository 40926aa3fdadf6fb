/**
 * The media side's Janus-carried lines: a JanusLine per line, and a mixer input per member feed heard through it,
 * each with its own playout buffer and meter, exactly as a mesh peer's. A feed's id is `janus:<line>:<stationId>`;
 * the control side routes our microphone to a line by putting `janus:<line>` in `sendTo`, and gives each feed its
 * gain by its id.
 */
import type { Log } from '../../common/log';
import { OpusDecoder } from '../../../native/opus';
import type { JanusLineAccess } from '../../common/signalling-protocol';
import { SpeakingDetector } from '../audio-level';
import { LevelMeter } from '../meter';
import type { Mixer, MixerInput } from '../mixer';
import { PlayoutBuffer } from '../playout/playout-buffer';
import type { MediaEvent, PeerMediaHealth } from '../media/media-protocol';
import type { JanusLineLink, NetworkThread } from '../network/network-thread';
import type { ReceivedRtp } from '../network/rtp-frames';
import type { JanusLineState } from '../network/network-protocol';
import { janusFeedId, janusTarget } from './feed-ids';


interface Feed extends MixerInput {
  id: string;
  playout: PlayoutBuffer;
  speech: SpeakingDetector;
  lastRtpAt: number;
}

interface Carried {
  line: string;
  transport: JanusLineLink;
  state: JanusLineState;
  feeds: Map<string, Feed>;
}

export interface JanusCarriedLinesDeps {
  mixer: Mixer;
  gain: (id: string) => number;
  emit: (event: MediaEvent) => void;
  log: Log;
  network: NetworkThread;
  frameMs: number;
  loopbackCandidates: boolean;
}

export class JanusCarriedLines {
  private readonly lines = new Map<string, Carried>();

  constructor(private readonly deps: JanusCarriedLinesDeps) {}

  /** Joins the line's Janus room (leaving any room it was in before). */
  async join(line: string, stationId: string, access: JanusLineAccess): Promise<void> {
    await this.leave(line);
    const transport = this.deps.network.janusLine({ line, stationId, access, frameMs: this.deps.frameMs, loopbackCandidates: this.deps.loopbackCandidates });
    const carried: Carried = { line, transport, state: 'connecting', feeds: new Map() };
    this.lines.set(line, carried);
    transport.on('state', (state, detail) => {
      carried.state = state;
      this.deps.log.child({ component: 'janus', subject: line })[state === 'failed' ? 'warn' : 'info'](`${state}: ${detail}`);
      this.deps.emit({ type: 'janus', line, state, detail });
    });
    transport.on('feed', (station, present) => {
      if (present) this.addFeed(line, carried, station);
      else this.dropFeed(carried, station);
    });
    transport.on('rtp', (station, rtp, level) => this.receive(carried, station, rtp, level));
    await transport.start();
  }

  private addFeed(line: string, carried: Carried, station: string): void {
    if (carried.feeds.has(station)) return;
    const id = janusFeedId(line, station);
    const playout = new PlayoutBuffer({ createDecoder: () => new OpusDecoder() });
    const feed: Feed = {
      id,
      playout,
      speech: new SpeakingDetector(),
      meter: new LevelMeter(),
      lastRtpAt: 0,
      pull: (samples, now) => playout.pull(samples, now),
      prepareAhead: (samples, now) => playout.prepareAhead(samples, now),
      gain: () => this.deps.gain(id),
    };
    carried.feeds.set(station, feed);
    this.deps.mixer.inputs.add(feed);
    this.deps.log.child({ component: 'janus', subject: line }).info(`hearing ${station}`);
  }

  private dropFeed(carried: Carried, station: string): void {
    const feed = carried.feeds.get(station);
    if (!feed) return;
    carried.feeds.delete(station);
    this.deps.mixer.inputs.delete(feed);
  }

  private receive(carried: Carried, station: string, rtp: ReceivedRtp, level: number | undefined): void {
    const feed = carried.feeds.get(station);
    if (!feed) return;
    const now = performance.now();
    if (feed.lastRtpAt === 0) this.deps.log.child({ component: 'janus', subject: carried.line }).info(`first RTP from ${station}`);
    feed.lastRtpAt = now;
    if (level !== undefined) feed.speech.note(level, now);
    feed.playout.insert(rtp, now);
  }

  /** The lines in `sendTo` (as `janus:<line>`) that we are joined to. */
  targets(sendTo: string[]): JanusLineLink[] {
    const out: JanusLineLink[] = [];
    for (const [line, c] of this.lines) if (sendTo.includes(janusTarget(line))) out.push(c.transport);
    return out;
  }

  async leave(line: string): Promise<void> {
    const c = this.lines.get(line);
    if (!c) return;
    this.lines.delete(line);
    for (const station of [...c.feeds.keys()]) this.dropFeed(c, station);
    await c.transport.close();
  }

  /** Each feed's health, shaped as a mesh peer's (id = the feed id). */
  health(now: number): PeerMediaHealth[] {
    const out: PeerMediaHealth[] = [];
    for (const c of this.lines.values()) {
      for (const f of c.feeds.values()) {
        const s = f.playout.stats();
        out.push({
          id: f.id,
          connection: c.state === 'connected' ? 'connected' : c.state === 'failed' ? 'failed' : 'connecting',
          rttMs: null,
          rtpAgoMs: f.lastRtpAt > 0 ? now - f.lastRtpAt : null,
          connectedForMs: null,
          jitterMs: s.jitterMs,
          lossRate: s.lossRate,
          playoutDelayMs: s.currentDelayMs,
          targetDelayMs: s.targetDelayMs,
          lowLatency: s.lowLatency,
          concealedFrames: s.concealedFrames,
          stretchedFrames: s.stretchedFrames,
          fecRecoveredFrames: s.fecRecoveredFrames,
          remoteLossRate: null,
          ...(f.speech.reporting(now) ? { speaking: f.speech.speaking(now), levelDbov: f.speech.readPeakDbov() } : {}),
        });
      }
    }
    return out;
  }

  meters(into: Record<string, { peakDb: number; rmsDb: number }>): void {
    for (const c of this.lines.values()) for (const f of c.feeds.values()) into[f.id] = f.meter.read();
  }

  async close(): Promise<void> {
    for (const line of [...this.lines.keys()]) await this.leave(line);
  }
}
