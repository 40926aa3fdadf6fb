/**
 * The signalling server's cost as a line grows: bytes and CPU per join at 64 and 256 members, and a burst of
 * simultaneous joins (its longest event-loop stall), with presence as deltas against complete lists (the anchor:
 * what clients that predate deltas get, and what every client got before). The members are light synthetic
 * WebSocket clients in this process; the server runs alone in a child process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION } from '../../electron/common/signalling-protocol';
import type { ServerUsage } from './signal-server-child';

type PresenceForm = 'delta' | 'full';

export interface JoinCost {
  members: number;
  form: PresenceForm;
  /** Presence and joined bytes the server sent per join (WebSocket payloads), over the last few joins. */
  bytesPerJoin: number;
  cpuMsPerJoin: number;
}

export interface BurstCost {
  members: number;
  form: PresenceForm;
  totalBytes: number;
  cpuMs: number;
  maxStallMs: number;
}

export interface ControlPlaneResult {
  joins: JoinCost[];
  bursts: BurstCost[];
}

class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<ServerProcess> {
    const child = fork(join(__dirname, 'signal-server-child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { url: string }).url));
      child.once('exit', (code) => reject(new Error(`signalling server exited (${code})`)));
    });
    return new ServerProcess(child, url);
  }

  usage(): Promise<ServerUsage> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as ServerUsage));
      this.child.send('usage');
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    this.child.kill('SIGKILL');
  }
}

/** A synthetic member: joins, counts the bytes of everything but pongs, answers nothing. */
class Member {
  bytes = 0;
  private pongWaiter: (() => void) | undefined;
  private joinedWaiter: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{"type":"pong"')) {
        this.pongWaiter?.();
        return;
      }
      this.bytes += data.length;
      if (text.startsWith('{"type":"joined"')) this.joinedWaiter?.();
    });
  }

  static async join(url: string, id: string, form: PresenceForm): Promise<Member> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const m = new Member(ws);
    const joined = new Promise<void>((r) => (m.joinedWaiter = r));
    ws.send(JSON.stringify({ type: 'join', stationId: id, name: `Crew member ${id}`, kind: 'station', lines: [{ line: 'main' }], protocol: PROTOCOL_VERSION, presence: form }));
    await joined;
    return m;
  }

  /** Everything the server queued for this member before the pong has arrived. */
  settle(): Promise<void> {
    const pong = new Promise<void>((r) => (this.pongWaiter = r));
    this.ws.send(JSON.stringify({ type: 'ping', t: 0 }));
    return pong;
  }
}

const settleAll = (members: Member[]) => Promise.all(members.map((m) => m.settle()));
const totalBytes = (members: Member[]) => members.reduce((sum, m) => sum + m.bytes, 0);

/** Fills a line to `members - measured`, then joins `measured` more one at a time and takes the mean cost. */
async function joinCost(members: number, form: PresenceForm, measured = 8): Promise<JoinCost> {
  const server = await ServerProcess.start();
  const crew: Member[] = [];
  try {
    for (let i = 0; i < members - measured; i += 32) {
      crew.push(...(await Promise.all(Array.from({ length: Math.min(32, members - measured - i) }, (_, k) => Member.join(server.url, `m${i + k}`, form)))));
    }
    await settleAll(crew);
    const bytesBefore = totalBytes(crew);
    const cpuBefore = (await server.usage()).cpuMs;
    for (let i = 0; i < measured; i++) crew.push(await Member.join(server.url, `late${i}`, form));
    const cpuAfter = (await server.usage()).cpuMs;
    await settleAll(crew);
    return { members, form, bytesPerJoin: Math.round((totalBytes(crew) - bytesBefore) / measured), cpuMsPerJoin: (cpuAfter - cpuBefore) / measured };
  } finally {
    for (const m of crew) m.ws.terminate();
    await server.stop();
  }
}

/** `members` clients connect and join at once. */
async function burstCost(members: number, form: PresenceForm): Promise<BurstCost> {
  const server = await ServerProcess.start();
  let crew: Member[] = [];
  try {
    const before = await server.usage();
    crew = await Promise.all(Array.from({ length: members }, (_, i) => Member.join(server.url, `b${i}`, form)));
    await settleAll(crew);
    const after = await server.usage();
    return { members, form, totalBytes: totalBytes(crew), cpuMs: after.cpuMs - before.cpuMs, maxStallMs: after.maxStallMs };
  } finally {
    for (const m of crew) m.ws.terminate();
    await server.stop();
  }
}

export async function measureControlPlane(options: { sizes: number[]; burst: number; log: (line: string) => void }): Promise<ControlPlaneResult> {
  const { log } = options;
  const joins: JoinCost[] = [];
  for (const members of options.sizes) {
    for (const form of ['full', 'delta'] as const) {
      const c = await joinCost(members, form);
      joins.push(c);
      log(`control plane: join at ${members} members, ${form} presence: ${(c.bytesPerJoin / 1024).toFixed(1)} KiB and ${c.cpuMsPerJoin.toFixed(2)} ms server CPU per join`);
    }
    const [full, delta] = joins.slice(-2) as [JoinCost, JoinCost];
    log(`control plane: at ${members} members deltas cost ${(delta.bytesPerJoin / full.bytesPerJoin).toFixed(4)}x the bytes and ${(delta.cpuMsPerJoin / full.cpuMsPerJoin).toFixed(3)}x the CPU of complete lists`);
  }
  const bursts: BurstCost[] = [];
  for (const form of ['full', 'delta'] as const) {
    const b = await burstCost(options.burst, form);
    bursts.push(b);
    log(`control plane: ${b.members} members joining at once, ${form} presence: ${(b.totalBytes / 1048576).toFixed(2)} MiB, ${b.cpuMs.toFixed(0)} ms server CPU, longest event-loop stall ${b.maxStallMs.toFixed(0)} ms`);
  }
  return { joins, bursts };
}
