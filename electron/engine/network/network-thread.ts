import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { LogRecord } from '../../common/log';
import { startEngineThread } from '../engine-thread';
import type {
  FromNetwork,
  JanusCall,
  JanusLineEvents,
  JanusLineSpec,
  PeerCall,
  PeerSpec,
  PeerTransportEvents,
  ToNetwork,
} from './network-protocol';
import type { CandidateInit, OutgoingRtp } from './rtp-frames';

/** A peer or Janus line on the network thread, seen from the audio thread. */
abstract class Link<E extends Record<keyof E, unknown[]>> extends EventEmitter<E> {
  constructor(
    protected readonly thread: NetworkThread,
    readonly handle: number,
  ) {
    super();
  }
}

/** A werift peer connection on the network thread (PeerTransport), seen from the audio thread. */
export class PeerLink extends Link<PeerTransportEvents> {
  offer(): Promise<void> {
    return this.thread.call(this.handle, { method: 'offer' });
  }
  acceptOffer(sdp: string): Promise<void> {
    return this.thread.call(this.handle, { method: 'acceptOffer', sdp });
  }
  acceptAnswer(sdp: string): Promise<void> {
    return this.thread.call(this.handle, { method: 'acceptAnswer', sdp });
  }
  addCandidate(candidate: CandidateInit | null): Promise<void> {
    return this.thread.call(this.handle, { method: 'addCandidate', candidate });
  }
  close(): Promise<void> {
    return this.thread.call(this.handle, { method: 'close' }).finally(() => this.thread.forget(this.handle));
  }
}

/** A Janus-carried line on the network thread (JanusLine), seen from the audio thread. */
export class JanusLineLink extends Link<JanusLineEvents> {
  start(): Promise<void> {
    return this.thread.call(this.handle, { method: 'start' });
  }
  close(): Promise<void> {
    return this.thread.call(this.handle, { method: 'close' }).finally(() => this.thread.forget(this.handle));
  }
}

/**
 * The network thread, started by the audio thread: werift and Janus run there, so that a DTLS handshake, an SRTP
 * burst or werift's garbage never holds up the thread that feeds the devices. Packets cross as messages; the audio
 * thread stamps their arrival as it takes them, so a late network thread reads as network jitter, which the playout
 * absorbs.
 */
export class NetworkThread {
  private readonly worker: Worker;
  private readonly links = new Map<number, PeerLink | JanusLineLink>();
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextHandle = 1;
  private nextCall = 1;
  private failed: Error | undefined;
  private closing = false;
  private readonly gone: Promise<void>;
  private reportThread: (tid: number) => void = () => undefined;
  /** The thread's kernel id once it has started (0 where there is none, or if it failed first). */
  readonly threadId = new Promise<number>((resolve) => (this.reportThread = resolve));

  constructor(private readonly onLog: (record: LogRecord) => void) {
    ({ worker: this.worker, gone: this.gone } = startEngineThread(
      { dirname: __dirname, filename: __filename },
      'network-worker',
      'network',
      {},
      (e) => this.fail(e),
    ));
    this.worker.on('message', (m: FromNetwork) => this.receive(m));
  }

  private receive(m: FromNetwork): void {
    switch (m.t) {
      case 'rtp': {
        const link = this.links.get(m.h);
        if (link instanceof PeerLink) link.emit('rtp', m.rtp, m.level);
        else if (link && m.station !== undefined) link.emit('rtp', m.station, m.rtp, m.level);
        return;
      }
      case 'event':
        (this.links.get(m.h) as EventEmitter | undefined)?.emit(m.name, ...(m.args as unknown[]));
        return;
      case 'reply': {
        const p = this.pending.get(m.call);
        if (!p) return;
        this.pending.delete(m.call);
        if (m.error) p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
        else p.resolve();
        return;
      }
      case 'log':
        this.onLog(m.record);
        return;
      case 'thread':
        this.reportThread(m.tid);
        return;
    }
  }

  /** The thread is gone: every call fails, every peer and line with it, and the log says why. */
  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = error;
    this.reportThread(0);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    if (this.closing) return;
    this.onLog({ level: 'error', component: 'network', msg: error.message });
    for (const link of this.links.values()) {
      if (link instanceof PeerLink) link.emit('connection', 'failed');
      else link.emit('state', 'failed', error.message);
    }
  }

  peer(spec: PeerSpec): PeerLink {
    const link = new PeerLink(this, this.nextHandle++);
    this.links.set(link.handle, link);
    this.post({ t: 'peer', h: link.handle, spec });
    return link;
  }

  janusLine(spec: JanusLineSpec): JanusLineLink {
    const link = new JanusLineLink(this, this.nextHandle++);
    this.links.set(link.handle, link);
    this.post({ t: 'janus', h: link.handle, spec });
    return link;
  }

  /** One packet to every handle listed, in one message whatever their number. */
  send(handles: number[], rtp: OutgoingRtp, level: number): void {
    if (handles.length > 0) this.post({ t: 'send', hs: handles, rtp, level });
  }

  call(h: number, what: PeerCall | JanusCall): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.pending.set(call, { resolve, reject });
      this.post({ t: 'call', h, call, what });
    });
  }

  forget(h: number): void {
    this.links.delete(h);
  }

  private post(m: ToNetwork): void {
    if (!this.failed) this.worker.postMessage(m);
  }

  async close(): Promise<void> {
    if (!this.failed && !this.closing) {
      this.closing = true;
      const call = this.nextCall++;
      await new Promise<void>((resolve) => {
        this.pending.set(call, { resolve, reject: () => resolve() });
        this.worker.postMessage({ t: 'close', call } satisfies ToNetwork);
      });
      await this.worker.terminate();
    }
    await this.gone;
  }
}
