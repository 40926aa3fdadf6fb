/**
 * An impairing UDP relay (on 127.0.0.1 unless given another address): two WebRTC endpoints that only learn the
 * relay's addresses (their ICE candidates rewritten, see rewriteCandidate / rewriteSdp) send all their media through
 * it, and it drops, delays, reorders and duplicates RTP and RTCP per direction, driven by a seeded PRNG. STUN and
 * DTLS pass untouched, so connection setup is the same under every profile.
 *
 * Each exposed candidate gets a listening port; like a NAT, every source that sends to it gets its own outbound port
 * toward the candidate, so replies find their way back and ICE sees the relay's ports as (peer-reflexive) candidates.
 */
import { seededRandom } from './seeded-random';
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';

export interface Impairment {
  /** Fraction of RTP/RTCP packets dropped, 0..1. */
  loss?: number;
  /** Mean length of a loss burst in packets (Gilbert–Elliott); 1 = independent losses. */
  burstLength?: number;
  /** Fixed one-way delay. */
  delayMs?: number;
  /** Each packet is delayed by a further uniform 0..jitterMs. */
  jitterMs?: number;
  /** Without it packets keep their order (a queue); with it each packet's delay is independent, so they overtake. */
  reorder?: boolean;
  /** Fraction of packets delivered twice (independent delays). */
  duplicate?: number;
}

/** What the relay did to one direction's RTP (RTCP is impaired the same way but not counted). */
export interface DirectionStats {
  rtpIn: number;
  dropped: number;
  duplicated: number;
  delivered: number;
  /** Deliveries that overtook an earlier-sent packet. */
  reordered: number;
  /** Mean |difference in added delay| between consecutive deliveries: what the relay adds to RFC 3550 jitter. */
  addedJitterMs: number;
}

export interface Route {
  /** Who owns the exposed candidate: packets toward it travel `${peer}->${owner}`. */
  owner: string;
  /** Who learns the relay's address instead. */
  peer: string;
}

/** FNV-1a: a stable per-direction seed from its name. */
function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

class Direction {
  readonly stats: DirectionStats = { rtpIn: 0, dropped: 0, duplicated: 0, delivered: 0, reordered: 0, addedJitterMs: 0 };
  private readonly random: () => number;
  private bad = false;
  private readonly queue: { at: number; send: () => void }[] = [];
  private lastAddedDelay: number | undefined;
  private jitterSum = 0;
  private jitterCount = 0;
  private sendOrder = 0;
  private lastDeliveredOrder = -1;

  constructor(
    private readonly impairment: Impairment,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /** Schedules `deliver` per the impairment; `isRtp` packets are counted. */
  pass(isRtp: boolean, deliver: () => void): void {
    const imp = this.impairment;
    if (isRtp) this.stats.rtpIn++;
    if (this.lose()) {
      if (isRtp) this.stats.dropped++;
      return;
    }
    const copies = imp.duplicate && this.random() < imp.duplicate ? 2 : 1;
    if (isRtp && copies === 2) this.stats.duplicated++;
    const order = this.sendOrder++;
    for (let c = 0; c < copies; c++) {
      const now = performance.now();
      const at = now + (imp.delayMs ?? 0) + (imp.jitterMs ?? 0) * this.random();
      const send = () => {
        if (isRtp) this.noteDelivery(performance.now() - now, order);
        deliver();
      };
      if (imp.reorder) setTimeout(send, at - now);
      else this.enqueue(Math.max(at, this.queue.at(-1)?.at ?? 0), send);
    }
  }

  /** In order: one timer for the head of a queue, since separate timers of different lengths may fire out of order. */
  private enqueue(at: number, send: () => void): void {
    this.queue.push({ at, send });
    if (this.queue.length === 1) this.drainAt(at);
  }

  private drainAt(at: number): void {
    setTimeout(() => {
      const now = performance.now();
      while (this.queue.length > 0 && (this.queue[0]?.at ?? Infinity) <= now + 0.5) this.queue.shift()?.send();
      const head = this.queue[0];
      if (head) this.drainAt(head.at);
    }, Math.max(0, at - performance.now()));
  }

  private lose(): boolean {
    const p = this.impairment.loss ?? 0;
    if (p <= 0) return false;
    const burst = Math.max(1, this.impairment.burstLength ?? 1);
    if (burst === 1) return this.random() < p;
    // Gilbert–Elliott with a lossless good state and a lossy bad one: mean stay in bad = burst, stationary P(bad) = p.
    const leaveBad = 1 / burst;
    const enterBad = p / (burst * (1 - p));
    this.bad = this.bad ? this.random() >= leaveBad : this.random() < enterBad;
    return this.bad;
  }

  private noteDelivery(addedDelayMs: number, order: number): void {
    this.stats.delivered++;
    if (order < this.lastDeliveredOrder) this.stats.reordered++;
    else this.lastDeliveredOrder = order;
    if (this.lastAddedDelay !== undefined) {
      this.jitterSum += Math.abs(addedDelayMs - this.lastAddedDelay);
      this.jitterCount++;
      this.stats.addedJitterMs = this.jitterSum / this.jitterCount;
    }
    this.lastAddedDelay = addedDelayMs;
  }

  reset(): void {
    Object.assign(this.stats, { rtpIn: 0, dropped: 0, duplicated: 0, delivered: 0, reordered: 0, addedJitterMs: 0 });
    this.jitterSum = 0;
    this.jitterCount = 0;
    this.lastAddedDelay = undefined;
  }
}

/** RFC 5761/7983 demultiplexing: RTP and RTCP start with version 2 (first byte 128..191). */
function isMedia(packet: Buffer): boolean {
  const b = packet[0] ?? 0;
  return b >= 128 && b <= 191;
}

function isRtcp(packet: Buffer): boolean {
  const pt = packet[1] ?? 0;
  return pt >= 192 && pt <= 223;
}

interface Exposure {
  listener: Socket;
  port: number;
}

export class UdpRelay {
  private readonly directions = new Map<string, Direction>();
  private readonly exposures = new Map<string, Exposure>();
  private readonly sockets = new Set<Socket>();
  private closed = false;

  constructor(
    private readonly seed: number,
    private readonly impairments: Record<string, Impairment> = {},
    /** The address the relay listens on and hands out (a middle namespace's own address, when it runs in one). */
    private readonly address = '127.0.0.1',
  ) {}

  /** Direction `from->to`: impaired per the profile given for it (none: passed as is). */
  direction(key: string): Direction {
    let d = this.directions.get(key);
    if (!d) {
      d = new Direction(this.impairments[key] ?? {}, (this.seed ^ hash(key)) >>> 0);
      this.directions.set(key, d);
    }
    return d;
  }

  /** Switches a direction to another profile (a fresh, reseeded PRNG and fresh counts); packets in flight still land. */
  setImpairment(key: string, impairment: Impairment): void {
    this.impairments[key] = impairment;
    this.directions.delete(key);
  }

  stats(key: string): DirectionStats {
    return { ...this.direction(key).stats };
  }

  /** Starts counting afresh (after connection setup and the first settling seconds). */
  resetStats(): void {
    for (const d of this.directions.values()) d.reset();
  }

  /** A relay address standing in for `target` (owned by route.owner) toward route.peer. */
  async expose(target: { address: string; port: number }, route: Route): Promise<{ address: string; port: number }> {
    const key = `${target.address}:${target.port}|${route.peer}->${route.owner}`;
    const known = this.exposures.get(key);
    if (known) return { address: this.address, port: known.port };
    const toward = `${route.peer}->${route.owner}`;
    const back = `${route.owner}->${route.peer}`;
    const listener = await this.bind();
    const outbound = new Map<string, Socket>();
    listener.on('message', (packet: Buffer, from: RemoteInfo) => {
      const sourceKey = `${from.address}:${from.port}`;
      let out = outbound.get(sourceKey);
      if (!out) {
        const socket = this.bindSync();
        socket.on('message', (reply: Buffer) => this.pass(back, reply, () => listener.send(reply, from.port, from.address)));
        outbound.set(sourceKey, socket);
        out = socket;
      }
      const via = out;
      this.pass(toward, packet, () => via.send(packet, target.port, target.address));
    });
    const port = listener.address().port;
    this.exposures.set(key, { listener, port });
    return { address: this.address, port };
  }

  private pass(key: string, packet: Buffer, deliver: () => void): void {
    // Packets still in flight when the relay closes are lost, as on a link that went down.
    const guarded = () => {
      if (!this.closed) deliver();
    };
    if (!isMedia(packet)) return guarded();
    this.direction(key).pass(!isRtcp(packet), guarded);
  }

  private bindSync(): Socket {
    const socket = createSocket('udp4');
    socket.on('error', () => undefined);
    socket.bind(0, this.address);
    this.sockets.add(socket);
    return socket;
  }

  private async bind(): Promise<Socket> {
    const socket = createSocket('udp4');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.bind(0, this.address, resolve));
    this.sockets.add(socket);
    return socket;
  }

  /**
   * An ICE candidate line as the peer should see it: a UDP IPv4 host candidate becomes the relay's address, anything
   * else (TCP, IPv6, reflexive) is dropped (null), so that every path between the two runs through the relay.
   */
  async rewriteCandidate(candidate: string, route: Route): Promise<string | null> {
    const parts = candidate.trim().split(/\s+/);
    const [, , transport, , address, port, , type] = parts;
    if (transport?.toLowerCase() !== 'udp' || type !== 'host' || !address || !/^\d+\.\d+\.\d+\.\d+$/.test(address)) return null;
    const relayed = await this.expose({ address, port: Number(port) }, route);
    parts[4] = relayed.address;
    parts[5] = String(relayed.port);
    return parts.join(' ');
  }

  /** The same for every `a=candidate:` line of an SDP. */
  async rewriteSdp(sdp: string, route: Route): Promise<string> {
    const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
    const out: string[] = [];
    for (const line of sdp.split(/\r?\n/)) {
      if (!line.startsWith('a=candidate:')) {
        out.push(line);
        continue;
      }
      const rewritten = await this.rewriteCandidate(line.slice(2), route);
      if (rewritten) out.push(`a=${rewritten}`);
    }
    return out.join(eol);
  }

  close(): void {
    this.closed = true;
    for (const s of this.sockets) s.close();
    this.sockets.clear();
    this.exposures.clear();
  }
}
