/**
 * Large lines on Janus, measured: one-way latency (the latency rig's burst train, A -> B) over a 2-member mesh, over a
 * 2-member Janus line (the same N: what the forwarder alone adds), and over a Janus line of `members` (default 64);
 * and the CPU Janus spends per member. At 64, three are real stations (A talks bursts on the rig microphone, B plays
 * them on the rig's far end, C records its speaker) and the rest a synthetic crowd in this process: each joins
 * signalling and the Janus room with a werift subscriber connection, as a station does, but publishes nothing (a
 * station publishes at join and sends only while it talks, so silent publishers cost Janus no forwarding); one of
 * them starts talking a 700 Hz tone halfway, as a second talker. Exported for the `scale` bench; runnable alone:
 *   node --env-file=electron/cli/station.env --import tsx bench/scale/janus.ts
 */
import { readFileSync } from 'node:fs';
import { sleep, type PulseHarness } from '../../testkit/pulse';
import { StationProcess } from '../../testkit/station-process';
import { startJanus, type JanusProcess } from '../../testkit/janus';
import { tonePresenceDb, tone } from '../../testkit/signal';
import { median, percentile } from '../support/chirp';
import { RIG_FAR_ID, RIG_MIC_ID, startRig } from '../support/latency-rig';
import { measureBursts } from '../latency';
import { SignallingServer } from '../../electron/signalling/server';
import { SignallingClient } from '../../electron/signalling/client';
import { JanusLine } from '../../electron/engine/janus/janus-line';
import { RtpPacketizer } from '../../electron/engine/rtp-packetizer';
import { frameAudioLevel } from '../../electron/engine/audio-level';
import { OpusEncoder } from '../../native/opus';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCSessionDescription } from 'werift';
import type { JanusLineAccess } from '../../electron/common/signalling-protocol';

export interface JanusScaleResult {
  bench: 'scale-janus';
  janus_members: number;
  /** Janus over the mesh at the same N (2 members), median one-way ms. */
  janus_added_latency_ms: number;
  /** Janus CPU at `janus_members` while two talk, per member, % of one core. */
  janus_cpu_pct_per_member: number;
  mesh_2_ms: number;
  janus_2_ms: number;
  janus_full_ms: number;
  janus_full_p95_ms: number;
  /** The full Janus line over the 2-member mesh. */
  janus_full_over_mesh_2_ms: number;
  janus_cpu_pct: number;
  /** This process (the synthetic crowd's signalling, ICE, DTLS, SRTP), per crowd member. */
  crowd_cpu_pct_per_member: number;
  /** Each real station's process. */
  station_cpu_pct: Record<string, number>;
  /** Speaker underruns the listening stations logged while measured. */
  underruns: Record<string, number>;
  /** C's recording: the second talker's tone once it talks. */
  c_second_talker_db: number;
  /** Packet transit through Janus at `janus_members` (send to arrival at crowd listeners) and werift peer to peer. */
  janus_transit_ms: number;
  janus_transit_p95_ms: number;
  mesh_transit_ms: number;
  bursts: number;
  [extra: string]: unknown;
}

export interface JanusScaleOptions {
  members?: number;
  bursts?: number;
  log?: (line: string) => void;
}

const TICKS = 100;
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}
export function cpuMeter(pids: Record<string, number>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const t0 = performance.now();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, round(((cpuSeconds(pid) - (start[k] as number)) / wall) * 100)]));
  };
}

function stationArgs(name: string, url: string, input: string, output: string, extra: string[] = []): string[] {
  return ['--name', name, '--server', url, '--insecure', '--line', 'main', '--input', input, '--output', output, '--meters-every', '0', ...extra];
}

async function pairLatency(pulse: PulseHarness, janus: JanusProcess | undefined, bursts: number): Promise<number[]> {
  const server = new SignallingServer({ port: 0, ...(janus ? { janus: { url: janus.url, adminKey: janus.adminKey }, janusLines: ['main'] } : {}) });
  const { url } = await server.start();
  const a = new StationProcess(stationArgs('A', url, RIG_MIC_ID, pulse.devices('a').serverOutputId, ['--talk', 'main']), pulse.env);
  const b = new StationProcess(stationArgs('B', url, pulse.devices('b').serverInputId, RIG_FAR_ID), pulse.env);
  try {
    await b.waitFor(janus ? /\[janus main\] first RTP from A/ : /\[peer A\] first RTP/, 20_000);
    await sleep(1000);
    return await measureBursts(pulse, bursts);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await server.close();
  }
}

export interface CrowdMember {
  client: SignallingClient;
  line: JanusLine;
}

/** The synthetic crowd: joins in small batches (each join is a DTLS handshake in this process). */
export async function crowd(url: string, count: number, log: (l: string) => void): Promise<CrowdMember[]> {
  const members: CrowdMember[] = [];
  const joinOne = async (i: number): Promise<CrowdMember> => {
    const id = `crowd-${String(i).padStart(3, '0')}`;
    const client = new SignallingClient({ url, stationId: id, name: id, kind: 'station', lines: [{ line: 'main' }], keepaliveMs: 0 });
    const access = await new Promise<JanusLineAccess>((resolve) => {
      client.on('line-carrier', (m) => {
        if (m.carrier === 'janus' && m.janus) resolve(m.janus);
      });
    });
    const line = new JanusLine({ line: 'main', stationId: id, access, frameMs: 10, loopbackCandidates: true, publish: i === 0 });
    await line.start();
    return { client, line };
  };
  for (let i = 0; i < count; i += 8) {
    const batch = await Promise.all(Array.from({ length: Math.min(8, count - i) }, (_, k) => joinOne(i + k)));
    members.push(...batch);
  }
  const failed = members.filter((m) => m.line.state !== 'connected').length;
  log(`crowd: ${members.length} synthetic members joined${failed ? `, ${failed} not connected to Janus` : ''}`);
  return members;
}

/** One crowd member talks a tone: Opus frames every 10 ms, and `talk` to signalling so listeners mix it. */
/** Send times of the packets a synthetic talker sent, by payload (Opus frames of a tone differ from one another). */
export const sentAt = new Map<string, number>();
const payloadKey = (payload: Uint8Array) => Buffer.from(payload.subarray(0, 16)).toString('base64') + payload.length;

export function talkTone(member: CrowdMember, hz: number): () => void {
  const encoder = new OpusEncoder({ frameMs: 10, bitrate: 32000, fec: false, application: 'audio' });
  const packetizer = new RtpPacketizer();
  const pcm = tone(hz, 1, -12);
  let captured = 0;
  member.client.setTalking(['main']);
  const started = performance.now();
  const timer = setInterval(() => {
    // Catch up on the wall clock: a timer that fires late sends the frames it owes.
    while (captured < ((performance.now() - started) / 1000) * 48000) {
      const offset = captured % 48000;
      const frame = pcm.subarray(offset, offset + 480);
      const rtp = packetizer.packetize(encoder.encode(frame), captured);
      sentAt.set(payloadKey(rtp.payload), performance.now());
      member.line.send(rtp, frameAudioLevel(frame));
      captured += 480;
    }
  }, 10);
  return () => {
    clearInterval(timer);
    member.client.setTalking([]);
  };
}

export async function runJanusScaleBench(options: JanusScaleOptions = {}): Promise<JanusScaleResult> {
  const members = options.members ?? 64;
  const bursts = options.bursts ?? 16;
  const log = options.log ?? ((l: string) => console.log(l));
  const pulse = await startRig(['a', 'b', 'c']);
  const janus = await startJanus();
  try {
    const mesh2 = await pairLatency(pulse, undefined, bursts);
    log(`mesh, 2 members, A -> B per burst ms: ${mesh2.map((l) => l.toFixed(1)).join(' ')}`);
    const janus2 = await pairLatency(pulse, janus, bursts);
    log(`Janus, 2 members, A -> B per burst ms: ${janus2.map((l) => l.toFixed(1)).join(' ')}`);

    const server = new SignallingServer({ port: 0, janus: { url: janus.url, adminKey: janus.adminKey }, janusLines: ['main'] });
    const { url } = await server.start();
    const a = new StationProcess(stationArgs('A', url, RIG_MIC_ID, pulse.devices('a').serverOutputId, ['--talk', 'main']), pulse.env);
    const b = new StationProcess(stationArgs('B', url, pulse.devices('b').serverInputId, RIG_FAR_ID), pulse.env);
    const c = new StationProcess(stationArgs('C', url, pulse.devices('c').serverInputId, pulse.devices('c').serverOutputId), pulse.env);
    let people: CrowdMember[] = [];
    try {
      await b.waitFor(/\[janus main\] first RTP from A/, 20_000);
      await c.waitFor(/\[janus main\] first RTP from A/, 20_000);
      people = await crowd(url, members - 3, log);
      await sleep(2000);
      const underrunsBefore = { B: countUnderruns(b), C: countUnderruns(c) };
      const cpu = cpuMeter({ janus: janus.pid, crowd: process.pid, A: a.pid ?? 0, B: b.pid ?? 0, C: c.pid ?? 0 });
      const recC = pulse.record(pulse.devices('c').speakerMonitor);
      // The forwarder alone: each packet of the second talker, from its send to its arrival at a few crowd listeners.
      const transit: number[] = [];
      for (const listener of people.slice(1, 9)) {
        listener.line.on('rtp', (_station, rtp) => {
          const t = sentAt.get(payloadKey(rtp.payload));
          if (t !== undefined) transit.push(performance.now() - t);
        });
      }
      const half = setTimeout(() => (stopTalker = people[0] ? talkTone(people[0], 700) : () => undefined), (bursts * 1000) / 2);
      let stopTalker = () => undefined as void;
      const full = await measureBursts(pulse, bursts);
      clearTimeout(half);
      const heardC = await recC.stop();
      const usage = cpu();
      stopTalker();
      log(`Janus, ${members} members, A -> B per burst ms: ${full.map((l) => l.toFixed(1)).join(' ')}`);
      const transitMs = round(median(transit), 2);
      const transitP95 = round(percentile(transit, 95), 2);
      const meshTransit = await meshPacketTransit();
      log(`packet transit: through Janus at ${members} members ${transitMs} ms median (p95 ${transitP95}, ${transit.length} packets at 8 listeners); werift peer to peer ${meshTransit.median} ms (p95 ${meshTransit.p95})`);
      const second = Math.floor(heardC.length / 2) + 48000;
      const cTalker = tonePresenceDb(heardC, 700, Math.min(second, heardC.length - 4800), heardC.length - 4800);
      const underruns = { B: countUnderruns(b) - underrunsBefore.B, C: countUnderruns(c) - underrunsBefore.C };
      const mesh2Ms = median(mesh2);
      const janus2Ms = median(janus2);
      const fullMs = median(full);
      const result: JanusScaleResult = {
        bench: 'scale-janus',
        janus_members: members,
        janus_added_latency_ms: round(janus2Ms - mesh2Ms),
        janus_cpu_pct_per_member: round((usage.janus as number) / members, 2),
        mesh_2_ms: round(mesh2Ms),
        janus_2_ms: round(janus2Ms),
        janus_full_ms: round(fullMs),
        janus_full_p95_ms: round(percentile(full, 95)),
        janus_full_over_mesh_2_ms: round(fullMs - mesh2Ms),
        janus_cpu_pct: usage.janus as number,
        crowd_cpu_pct_per_member: round((usage.crowd as number) / (members - 3), 2),
        station_cpu_pct: { A: usage.A as number, B: usage.B as number, C: usage.C as number },
        underruns,
        c_second_talker_db: round(cTalker),
        janus_transit_ms: transitMs,
        janus_transit_p95_ms: transitP95,
        mesh_transit_ms: meshTransit.median,
        bursts: Math.min(mesh2.length, janus2.length, full.length),
      };
      log(
        `median one-way: mesh(2) ${result.mesh_2_ms} ms, Janus(2) ${result.janus_2_ms} ms (adds ${result.janus_added_latency_ms} ms; goal <= 10), ` +
          `Janus(${members}) ${result.janus_full_ms} ms (p95 ${result.janus_full_p95_ms}; ${result.janus_full_over_mesh_2_ms} ms over mesh(2))`,
      );
      log(
        `CPU (% of one core): Janus ${result.janus_cpu_pct} (${result.janus_cpu_pct_per_member} per member), crowd process ${usage.crowd} (${result.crowd_cpu_pct_per_member} per member), ` +
          `stations A ${usage.A}, B ${usage.B}, C ${usage.C}; underruns B ${underruns.B}, C ${underruns.C}; C hears the second talker at ${result.c_second_talker_db} dB`,
      );
      return result;
    } finally {
      for (const p of people) {
        await p.line.close();
        await p.client.close();
      }
      await Promise.all([a.stop(), b.stop(), c.stop()]);
      await server.close();
    }
  } finally {
    await janus.stop();
    await pulse.stop();
  }
}

/** The mesh's packet transit, the anchor for the forwarder's: one werift peer straight to another in this process. */
async function meshPacketTransit(): Promise<{ median: number; p95: number }> {
  const mk = () => new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })], video: [] } });
  const a = mk();
  const b = mk();
  const track = new MediaStreamTrack({ kind: 'audio' });
  a.addTransceiver(track, { direction: 'sendonly' });
  a.onIceCandidate.subscribe((c) => c && void b.addIceCandidate(c));
  b.onIceCandidate.subscribe((c) => c && void a.addIceCandidate(c));
  const sent = new Map<number, number>();
  const lat: number[] = [];
  b.onTransceiverAdded.subscribe((t) =>
    t.onTrack.subscribe((tr) =>
      tr.onReceiveRtp.subscribe((rtp) => {
        const at = sent.get(rtp.payload.readUInt16BE(3));
        if (at !== undefined) lat.push(performance.now() - at);
      }),
    ),
  );
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription as RTCSessionDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription as RTCSessionDescription);
  for (let i = 0; i < 100 && a.connectionState !== 'connected'; i++) await sleep(50);
  await sleep(500);
  for (let i = 0; i < 500; i++) {
    sent.set(i, performance.now());
    track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: i, timestamp: i * 480, ssrc: 1 }), Buffer.from([0xf8, 0xff, 0xfe, i >> 8, i & 255])));
    await sleep(10);
  }
  await sleep(300);
  await Promise.all([a.close(), b.close()]);
  return { median: round(median(lat), 2), p95: round(percentile(lat, 95), 2) };
}

function countUnderruns(s: StationProcess): number {
  let n = 0;
  for (const l of s.lines) {
    const m = /\[audio\] speaker underran (\d+) time/.exec(l);
    if (m) n += Number(m[1]);
  }
  return n;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

if (require.main === module) {
  const members = Number(process.argv[2] ?? 64);
  runJanusScaleBench({ members }).then(
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
