/**
 * Where a mesh ends when every member has a machine of its own: what one talking station pays per listener. This
 * machine cannot hold 30 to 100 real stations, but the member that runs out first in a mesh is the talker, which
 * sends its audio once per listener (SRTP, RTCP, ICE consent, a UDP send each), while each listener receives one
 * stream per talker. So one real station (`npm run station`) talks a tone on a line, and N synthetic listeners in
 * this process join the line as stations do (signalling, then an offer as the newcomer, werift peers) and take its
 * audio, sending nothing, as a station that does not talk (they call the talker only: calls between listeners carry
 * nothing). Per N it reads the talker's CPU (process, and its
 * busiest threads from /proc), the packets its listeners receive, and what it logs about its own audio; the
 * listeners' CPU is this process's, apart. Runnable alone:
 *   node --env-file=electron/cli/station.env --import tsx bench/scale/mesh-talker.ts [--quick]
 */
import { fork } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RTCPeerConnection, type RTCIceCandidate } from 'werift';
import { SignallingClient } from '../../electron/signalling/client';
import { PulseHarness, sleep } from '../../testkit/pulse';
import { tone } from '../../testkit/signal';
import { StationProcess } from '../../testkit/station-process';
import { cpuMs, rssMb } from './proc-usage';

export interface TalkerPoint {
  listeners: number;
  /** The talking station's process, % of one core. */
  talker_cpu_pct: number;
  /** Its network thread (werift: SRTP, RTCP, ICE, sends), % of one core: the one thread that grows with N. */
  talker_network_thread_pct: number | null;
  /** Its busiest threads by name and id, % of one core. */
  talker_threads: string[];
  talker_rss_mb: number;
  /** RTP packets per second the listeners received, summed: 100 per listener when every one is sent. */
  received_pps: number;
  /** Listeners whose call carried RTP in the window. */
  listeners_hearing: number;
  /** Lines the talker logged about its own audio in the window (underruns, a silent microphone). */
  talker_audio_events: number;
  /** This process: the synthetic listeners' signalling, ICE, DTLS and SRTP. */
  listeners_cpu_pct: number;
}

export interface TalkerResult {
  points: TalkerPoint[];
  /** Talker CPU per added listener, % of one core, from the smallest to the largest N measured. */
  talker_pct_per_listener: number | null;
  network_thread_pct_per_listener: number | null;
  /** The N at which the network thread, growing at that rate, would fill one core. */
  network_thread_full_core_at: number | null;
}

export interface TalkerOptions {
  sizes: number[];
  seconds: number;
  log: (line: string) => void;
}

const TALKER = 'A';

function threads(pid: number): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended
    }
    out.set(tid, { name, ms: cpuMs(pid, tid) });
  }
  return out;
}

/** A listener: joins the line, offers to the talker (it is the newcomer), and counts the RTP that comes. */
class Listener {
  received = 0;
  private readonly pcs = new Map<string, RTCPeerConnection>();
  private chain = Promise.resolve();
  private constructor(readonly client: SignallingClient) {}

  static join(url: string, id: string): Listener {
    const client = new SignallingClient({ url, stationId: id, name: id, kind: 'station', lines: [{ line: 'main' }], keepaliveMs: 0 });
    const l = new Listener(client);
    // Only the talker: calls between listeners would carry nothing, and cost this process, not the talker.
    client.on('joined', (m) => {
      for (const p of m.peers) if (p.stationId === TALKER) l.enqueue(() => l.offer(p.stationId));
    });
    client.on('error', (m) => void l.problems.push(`server: ${JSON.stringify(m)}`));
    client.on('answer', (m) => l.enqueue(() => l.pcs.get(m.from)?.setRemoteDescription({ type: 'answer', sdp: m.sdp })));
    client.on('candidate', (m) =>
      l.enqueue(async () => {
        if (m.candidate) await l.pcs.get(m.from)?.addIceCandidate(m.candidate as never);
      }),
    );
    return l;
  }

  /** What went wrong in setting up its calls, for the log. */
  readonly problems: string[] = [];

  private enqueue(step: () => Promise<unknown> | undefined): void {
    this.chain = this.chain.then(step).then(
      () => undefined,
      (e: Error) => void this.problems.push(e.message),
    );
  }

  private async offer(peer: string): Promise<void> {
    const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'] });
    this.pcs.set(peer, pc);
    const held: (object | null)[] = [];
    let described = false;
    pc.onIceCandidate.subscribe((c?: RTCIceCandidate) => {
      const candidate = c ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null;
      if (described) this.client.send({ type: 'candidate', to: peer, candidate } as never);
      else held.push(candidate);
    });
    pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => void this.received++));
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    // The description first, then the candidates (docs/signalling.md).
    this.client.send({ type: 'offer', to: peer, sdp: pc.localDescription?.sdp ?? '' } as never);
    described = true;
    for (const candidate of held) this.client.send({ type: 'candidate', to: peer, candidate } as never);
  }

  /** Each call's ICE and connection state, for a listener that hears nothing. */
  states(): string {
    return [...this.pcs.values()].map((pc) => `${pc.iceConnectionState}/${pc.connectionState}/${pc.remoteDescription ? 'answered' : 'no answer'}`).join(' ');
  }

  async close(): Promise<void> {
    await Promise.all([...this.pcs.values()].map((pc) => pc.close().catch(() => undefined)));
    await this.client.close();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

export async function measureMeshTalker(options: TalkerOptions): Promise<TalkerResult> {
  const { log } = options;
  const pulse = await PulseHarness.start(['a']);
  // The server in a process of its own: in this one, the listeners' handshakes would hold up the talker's signalling.
  const server = fork(join(__dirname, 'signal-server-child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    server.once('message', (m) => resolve((m as { url: string }).url));
    server.once('exit', (code) => reject(new Error(`signalling server exited (${code})`)));
  });
  const d = pulse.devices('a');
  const talker = new StationProcess(
    ['--name', TALKER, '--server', url, '--insecure', '--line', 'main', '--input', d.serverInputId, '--output', d.serverOutputId, '--talk', 'main', '--meters-every', '0'],
    pulse.env,
  );
  const listeners: Listener[] = [];
  const points: TalkerPoint[] = [];
  const voice = pulse.inject(d.micSink, tone(440, 3600, -12));
  try {
    await talker.waitFor(/\[signal\] joined/, 20_000);
    const pid = talker.pid as number;
    const networkTid = (await talker.waitFor(/network thread (\d+):/, 20_000))[1] as string;
    for (const n of options.sizes) {
      while (listeners.length < n) {
        // In batches: each join is a DTLS handshake on the talker's network thread and in this process.
        const batch = Math.min(8, n - listeners.length);
        for (let k = 0; k < batch; k++) listeners.push(Listener.join(url, `listener-${String(listeners.length).padStart(3, '0')}`));
        await sleep(1500);
      }
      // Settle: every call up and carrying RTP, or 20 s.
      const settleUntil = performance.now() + 20_000;
      while (performance.now() < settleUntil) {
        const before = listeners.map((l) => l.received);
        await sleep(500);
        if (listeners.every((l, i) => l.received > (before[i] as number))) break;
      }
      await sleep(2000);
      const audioLinesBefore = talker.lines.filter((l) => /\[audio\] (speaker underran|microphone delivered nothing)/.test(l)).length;
      const t0 = performance.now();
      const cpu0 = cpuMs(pid);
      const self0 = process.cpuUsage();
      const threads0 = threads(pid);
      const received0 = listeners.map((l) => l.received);
      await sleep(options.seconds * 1000);
      const wall = performance.now() - t0;
      const threads1 = threads(pid);
      const self = process.cpuUsage(self0);
      const per = listeners.map((l, i) => l.received - (received0[i] as number));
      const busiest = [...threads1]
        .map(([tid, t]) => ({ tid, name: t.name, pct: (100 * (t.ms - (threads0.get(tid)?.ms ?? 0))) / wall }))
        .sort((a, b) => b.pct - a.pct);
      const network = busiest.find((t) => t.tid === networkTid);
      const point: TalkerPoint = {
        listeners: n,
        talker_cpu_pct: round((100 * (cpuMs(pid) - cpu0)) / wall),
        talker_network_thread_pct: network ? round(network.pct) : null,
        talker_threads: busiest.slice(0, 5).map((t) => `${t.tid === networkTid ? 'network' : t.tid === String(pid) ? 'main' : t.name}/${t.tid} ${round(t.pct)}%`),
        talker_rss_mb: round(rssMb(pid)),
        received_pps: round((per.reduce((s, x) => s + x, 0) * 1000) / wall),
        listeners_hearing: per.filter((x) => x > 0).length,
        talker_audio_events: talker.lines.filter((l) => /\[audio\] (speaker underran|microphone delivered nothing)/.test(l)).length - audioLinesBefore,
        listeners_cpu_pct: round((100 * (self.user + self.system)) / 1000 / wall),
      };
      points.push(point);
      const deaf = listeners.filter((_, i) => (per[i] as number) === 0);
      if (deaf.length > 0) log(`mesh talker: ${deaf.length} listener(s) hear nothing; their calls: ${[...new Set(deaf.map((l) => l.states()))].join(', ')}; problems: ${[...new Set(deaf.flatMap((l) => l.problems))].join('; ') || 'none'}`);
      log(
        `mesh talker: ${n} listeners (${point.listeners_hearing} hearing, ${point.received_pps} packets/s received): talker ${point.talker_cpu_pct} % of a core ` +
          `(network thread ${point.talker_network_thread_pct ?? '?'} %; busiest ${point.talker_threads.join(', ')}), ${point.talker_rss_mb} MiB, ` +
          `${point.talker_audio_events} audio event(s) logged; listeners in this process ${point.listeners_cpu_pct} %`,
      );
    }
  } finally {
    voice.stop();
    await Promise.all(listeners.map((l) => l.close().catch(() => undefined)));
    await talker.stop();
    server.disconnect();
    await pulse.stop();
  }
  const first = points[0];
  const last = points.at(-1);
  const span = first && last && last.listeners > first.listeners ? last.listeners - first.listeners : 0;
  const perListener = span > 0 ? (last!.talker_cpu_pct - first!.talker_cpu_pct) / span : null;
  const netPer = span > 0 && last!.talker_network_thread_pct !== null && first!.talker_network_thread_pct !== null ? (last!.talker_network_thread_pct - first!.talker_network_thread_pct) / span : null;
  const fullAt = netPer !== null && netPer > 0 && last!.talker_network_thread_pct !== null ? Math.round(last!.listeners + (100 - last!.talker_network_thread_pct) / netPer) : null;
  return {
    points,
    talker_pct_per_listener: perListener === null ? null : Math.round(perListener * 100) / 100,
    network_thread_pct_per_listener: netPer === null ? null : Math.round(netPer * 100) / 100,
    network_thread_full_core_at: fullAt,
  };
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const sizesAt = process.argv.indexOf('--sizes');
  const sizes = sizesAt > 0 ? (process.argv[sizesAt + 1] ?? '').split(',').map(Number) : quick ? [4, 8] : [8, 16, 32, 64, 100];
  void measureMeshTalker({ sizes, seconds: quick ? 5 : 15, log: (l) => console.log(l) }).then((r) => {
    console.log(JSON.stringify({ bench: 'scale-mesh-talker', ...r }));
    process.exit(0);
  });
}
