/**
 * Resolves the `<uuid>.local` names a browser puts in its host candidates when the page has no microphone or camera
 * permission (draft-ietf-mmusic-mdns-ice-candidates), with one-shot multicast DNS queries (RFC 6762).
 *
 * werift would resolve them itself, but it waits 10 s and then drops the candidate without a word (and its socket
 * has no error listener: a failed bind throws). We resolve first and hand werift an address, so a name nobody
 * answers becomes an error that says which name and why.
 */
import dgram from 'node:dgram';
import os from 'node:os';
import * as dnsPacket from 'dns-packet';

const GROUP = '224.0.0.251';
const PORT = 5353;

export class MdnsResolutionError extends Error {
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`mDNS name ${host} not resolved: ${reason}`);
    this.name = 'MdnsResolutionError';
  }
}

export interface MdnsResolverOptions {
  /** How long a name may take to answer. Browsers answer in milliseconds; ICE itself gives up after about 30 s. */
  timeoutMs?: number;
  /** Queries are repeated this often until an answer or the timeout (a multicast datagram may be lost). */
  retryMs?: number;
}

interface Pending {
  resolve: (address: string) => void;
  reject: (e: MdnsResolutionError) => void;
}

export class MdnsResolver {
  private socket: Promise<dgram.Socket> | undefined;
  private readonly pending = new Map<string, Set<Pending>>();
  private readonly timeoutMs: number;
  private readonly retryMs: number;

  constructor(options: MdnsResolverOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retryMs = options.retryMs ?? 1000;
  }

  /** The IPv4 address `host` (a `.local` name) answers with. Rejects with an MdnsResolutionError. */
  async resolve(host: string): Promise<string> {
    const name = host.toLowerCase().replace(/\.$/, '');
    if (!name.endsWith('.local')) throw new MdnsResolutionError(host, 'not a .local name');
    let socket: dgram.Socket;
    try {
      socket = await this.open();
    } catch (e) {
      throw new MdnsResolutionError(host, `no mDNS socket (${(e as Error).message})`);
    }
    return new Promise<string>((resolve, reject) => {
      const waiters = this.pending.get(name) ?? new Set<Pending>();
      this.pending.set(name, waiters);
      // Why queries could not leave, per interface: the reason a timeout gives.
      const failures = new Set<string>();
      const ask = () => void sendQuery(socket, name, (f) => failures.add(f));
      const retry = setInterval(ask, this.retryMs);
      const timeout = setTimeout(
        () => finish(new MdnsResolutionError(host, `no answer within ${this.timeoutMs} ms${failures.size ? ` (${[...failures].join('; ')})` : ''}`)),
        this.timeoutMs,
      );
      const waiter: Pending = {
        resolve: (address) => {
          finish(undefined);
          resolve(address);
        },
        reject: (e) => {
          finish(undefined);
          reject(e);
        },
      };
      const finish = (e: MdnsResolutionError | undefined) => {
        clearInterval(retry);
        clearTimeout(timeout);
        waiters.delete(waiter);
        if (!waiters.size && this.pending.get(name) === waiters) this.pending.delete(name);
        if (e) reject(e);
      };
      waiters.add(waiter);
      ask();
    });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    for (const [name, waiters] of this.pending) for (const w of [...waiters]) w.reject(new MdnsResolutionError(name, 'resolver closed'));
    if (socket) await socket.then((s) => new Promise<void>((r) => s.close(() => r())), () => undefined);
  }

  private open(): Promise<dgram.Socket> {
    this.socket ??= new Promise<dgram.Socket>((resolve, reject) => {
      // Port 5353 shared with any responder on this machine (a browser's, avahi): answers go to the group and port.
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      s.once('error', reject);
      s.on('message', (msg) => this.answer(msg));
      s.bind(PORT, () => {
        s.removeListener('error', reject);
        s.on('error', () => undefined);
        s.setMulticastLoopback(true);
        s.setMulticastTTL(255);
        for (const address of multicastInterfaces()) {
          try {
            s.addMembership(GROUP, address);
          } catch {
            /* an interface without multicast cannot answer us either */
          }
        }
        resolve(s);
      });
    });
    const opening = this.socket;
    opening.catch(() => {
      if (this.socket === opening) this.socket = undefined;
    });
    return opening;
  }

  private answer(msg: Buffer): void {
    let records: { name: string; address: string }[];
    try {
      records = parseAnswers(msg);
    } catch {
      return; // not ours to judge: any host on the link may send anything to the group
    }
    for (const { name, address } of records) for (const w of [...(this.pending.get(name) ?? [])]) w.resolve(address);
  }
}

/** Every IPv4 address a query may leave from. */
function multicastInterfaces(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => !!i && i.family === 'IPv4')
    .map((i) => i.address);
}

/**
 * Sends the query out of every IPv4 interface: the browser may sit behind any of them. One at a time: a send leaves
 * after a lookup tick, by whichever interface is set by then.
 */
async function sendQuery(socket: dgram.Socket, name: string, failed: (why: string) => void): Promise<void> {
  const query = encodeQuery(name);
  for (const address of multicastInterfaces()) {
    try {
      socket.setMulticastInterface(address);
      await new Promise<void>((sent) =>
        socket.send(query, PORT, GROUP, (e) => {
          if (e) failed(`${address}: ${e.message}`);
          sent();
        }),
      );
    } catch (e) {
      failed(`${address}: ${(e as Error).message}`);
    }
  }
}

function encodeQuery(name: string): Buffer {
  // A standard query (id 0, no flags, as RFC 6762 asks of one-shot queries) for the name's A record.
  return dnsPacket.encode({ type: 'query', id: 0, flags: 0, questions: [{ type: 'A', class: 'IN', name }] });
}

/** The A records of a response (answers and additional records alike), names lower-cased. Throws on a malformed packet. */
function parseAnswers(msg: Buffer): { name: string; address: string }[] {
  const packet = dnsPacket.decode(msg);
  if (packet.type !== 'response') return [];
  return [...(packet.answers ?? []), ...(packet.authorities ?? []), ...(packet.additionals ?? [])]
    .filter((r): r is dnsPacket.StringAnswer => r.type === 'A' && typeof r.data === 'string')
    .map((r) => ({ name: r.name.toLowerCase(), address: r.data }));
}
