import { recordLog, type Log } from '../../common/log';
import { JanusLine } from '../janus/janus-line';
import { MdnsResolver } from '../mdns-resolver';
import type { FromNetwork, JanusCall, PeerCall, ToNetwork } from './network-protocol';
import { PeerTransport } from './peer-transport';
import type { ReceivedRtp } from './rtp-frames';

/**
 * The network thread's side of the boundary: the werift peers and Janus lines the audio thread asked for, by handle.
 * ICE, DTLS handshakes, SRTP and their garbage happen here, so none of it holds up the thread that feeds the devices.
 */
export class NetworkHost {
  private readonly peers = new Map<number, PeerTransport>();
  private readonly lines = new Map<number, JanusLine>();
  /** Resolves browsers' mDNS candidate names; its socket opens only when the first such name arrives. */
  private readonly mdns = new MdnsResolver();
  private readonly log: Log;

  constructor(private readonly post: (message: FromNetwork, transfer?: ArrayBuffer[]) => void) {
    this.log = recordLog((record) => post({ t: 'log', record }));
  }

  handle(m: ToNetwork): void {
    switch (m.t) {
      case 'peer':
        return this.addPeer(m.h, m.spec);
      case 'janus':
        return this.addJanusLine(m.h, m.spec);
      case 'call':
        return void this.call(m.h, m.what).then(
          () => this.post({ t: 'reply', call: m.call }),
          (e: unknown) =>
            this.post({
              t: 'reply',
              call: m.call,
              error: { name: (e as Error).name ?? 'Error', message: (e as Error).message ?? String(e) },
            }),
        );
      case 'send':
        for (const h of m.hs) (this.peers.get(h) ?? this.lines.get(h))?.send(m.rtp, m.level);
        return;
      case 'close':
        return void this.close().then(() => this.post({ t: 'reply', call: m.call }));
    }
  }

  private addPeer(h: number, spec: Extract<ToNetwork, { t: 'peer' }>['spec']): void {
    const p = new PeerTransport({ ...spec, resolveMdns: (host) => this.mdns.resolve(host) });
    this.peers.set(h, p);
    p.on('description', (...args) => this.post({ t: 'event', h, name: 'description', args }));
    p.on('candidate', (...args) => this.post({ t: 'event', h, name: 'candidate', args }));
    p.on('connection', (...args) => this.post({ t: 'event', h, name: 'connection', args }));
    p.on('receiverReport', (...args) => this.post({ t: 'event', h, name: 'receiverReport', args }));
    p.on('mdnsResolved', (...args) => this.post({ t: 'event', h, name: 'mdnsResolved', args }));
    p.on('mdnsUnresolved', (...args) => this.post({ t: 'event', h, name: 'mdnsUnresolved', args }));
    p.on('rtp', (rtp, level) => this.postRtp(h, undefined, rtp, level));
  }

  private addJanusLine(h: number, spec: Extract<ToNetwork, { t: 'janus' }>['spec']): void {
    const line = new JanusLine({ ...spec, log: this.log });
    this.lines.set(h, line);
    line.on('state', (...args) => this.post({ t: 'event', h, name: 'state', args }));
    line.on('feed', (...args) => this.post({ t: 'event', h, name: 'feed', args }));
    line.on('rtp', (station, rtp, level) => this.postRtp(h, station, rtp, level));
  }

  /** The payload goes in a buffer of its own: werift's may be a view of a larger one, which a message would copy whole. */
  private postRtp(h: number, station: string | undefined, rtp: ReceivedRtp, level: number | undefined): void {
    const payload = new Uint8Array(rtp.payload);
    this.post(
      {
        t: 'rtp',
        h,
        station,
        rtp: { seq: rtp.seq, timestamp: rtp.timestamp, ssrc: rtp.ssrc, marker: rtp.marker, payload },
        level,
      },
      [payload.buffer],
    );
  }

  private async call(h: number, what: PeerCall | JanusCall): Promise<void> {
    const peer = this.peers.get(h);
    if (peer) {
      const c = what as PeerCall;
      switch (c.method) {
        case 'offer':
          return peer.offer();
        case 'acceptOffer':
          return peer.acceptOffer(c.sdp);
        case 'acceptAnswer':
          return peer.acceptAnswer(c.sdp);
        case 'addCandidate':
          return peer.addCandidate(c.candidate);
        case 'close':
          this.peers.delete(h);
          return peer.close();
      }
    }
    const line = this.lines.get(h);
    if (line) {
      if (what.method === 'start') return line.start();
      if (what.method === 'close') {
        this.lines.delete(h);
        return line.close();
      }
    }
    // Closed already: a call that raced the close has nothing left to act on.
    if (what.method === 'close') return;
    throw new Error(`no peer or Janus line ${h} on the network thread (${what.method})`);
  }

  async close(): Promise<void> {
    const all = [...this.peers.values(), ...this.lines.values()];
    this.peers.clear();
    this.lines.clear();
    await Promise.all([...all.map((x) => x.close()), this.mdns.close()]);
  }
}
