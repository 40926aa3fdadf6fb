/**
 * A station's connection to the signalling server: joins its lines, surfaces what the server
 * relays as typed events, and keeps itself joined across drops and server restarts by
 * reconnecting with exponential backoff and re-joining its current lines (and talk state).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect as netConnect, isIP, type NetConnectOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import {
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  checkClientMessage,
  parseServerMessage,
  type ClientMessage,
  type ErrorCode,
  type ErrorMessage,
  type JoinMessage,
  type LineCredential,
} from '../common/signalling-protocol';
import { PresenceRoster } from '../common/presence-roster';

import { SIGNALLING_BACKOFF, backoffDelay, type Backoff } from '../common/backoff';
import type { SignallingClientEvents, SignallingClientOptions, SignallingClientState, SignallingLink } from '../common/signalling-link';

export type { Backoff } from '../common/backoff';
export type { SignallingClientEvents, SignallingClientOptions, SignallingClientState } from '../common/signalling-link';

/**
 * How long a connection attempt may take before it is given up and tried again at once (a SYN into a link that is
 * down is not sent again by TCP for seconds). Until a handshake has been seen, 3 s; after, four times the last one,
 * at least 1 s: a LAN station is back within about a second of its link, a slow link keeps the time it needs.
 */
export function handshakeTimeoutMs(lastHandshakeMs: number | undefined): number {
  if (lastHandshakeMs === undefined) return 3000;
  return Math.min(3000, Math.max(1000, 4 * lastHandshakeMs));
}

/**
 * How long an attempt's TCP connection may take before the attempt is given up and tried again at once: TCP sends a
 * SYN lost in a link that was down again only after a second, then three. Until a connection has been seen, 3 s;
 * after, four times the last one, at least 500 ms, so a station is back within about half a second of its link. A
 * server that accepts at once and answers slowly still has the whole handshake's time (handshakeTimeoutMs).
 */
export function connectTimeoutMs(lastConnectMs: number | undefined): number {
  if (lastConnectMs === undefined) return 3000;
  return Math.min(3000, Math.max(500, 4 * lastConnectMs));
}

/** Connection errors that say this machine has no way to the server now (a link down), not that the server said no. */
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN']);

/** What ws's own TLS connect does with the request's options: no path, and SNI only for a host name. */
function tlsOptions(options: NetConnectOpts): ConnectionOptions {
  const o = { ...options, path: undefined } as ConnectionOptions & { host?: string };
  if (!o.servername && o.servername !== '') o.servername = o.host && isIP(o.host) ? '' : o.host;
  return o;
}

/** Thrown by send(), setLines() and setTalking() for a message that must not go out. */
export class SignallingSendError extends Error {
  override readonly name = 'SignallingSendError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${message} (field ${field})` : message);
  }
}

/** Error codes after which re-joining with the same identity cannot succeed. */
const FATAL_CODES = new Set<ErrorCode>(['protocol-version']);

export class SignallingClient extends EventEmitter<SignallingClientEvents> implements SignallingLink {
  private readonly join: Omit<JoinMessage, 'lines'>;
  private readonly url: string;
  private readonly backoff: Backoff;
  private readonly keepaliveMs: number;
  private readonly verifyServer: SignallingClientOptions['verifyServer'];
  private lines: LineCredential[];
  private talking: string[] = [];
  private ws: WebSocket | undefined;
  private currentState: SignallingClientState = 'connecting';
  private attempt = 0;
  private lastHandshakeMs: number | undefined;
  private lastConnectMs: number | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  /** When the server last sent anything (performance.now()), 0 before. */
  private lastHeard = 0;
  private stopped = false;
  private readonly roster = new PresenceRoster();

  /** Validates the identity (throws SignallingSendError naming the field) and starts connecting on the next tick. */
  constructor(options: SignallingClientOptions) {
    super();
    const join = this.validate({
      type: 'join',
      stationId: options.stationId,
      name: options.name,
      kind: options.kind,
      lines: options.lines,
      protocol: PROTOCOL_VERSION,
      presence: 'delta',
      // Back after a cut, this client takes its seat over at once instead of waiting for the old socket's probe.
      resume: randomBytes(16).toString('hex'),
    });
    if (join.type !== 'join') throw new Error('unreachable: join validated as another type');
    const { lines, ...identity } = join;
    this.join = identity;
    this.lines = lines;
    this.url = options.url;
    this.backoff = { ...SIGNALLING_BACKOFF, ...options.backoff };
    this.keepaliveMs = options.keepaliveMs ?? 10_000;
    this.verifyServer = options.verifyServer;
    // Deferred so that listeners attached right after construction see 'connecting' and everything after.
    queueMicrotask(() => {
      this.emit('state', 'connecting');
      this.open();
    });
  }

  get state(): SignallingClientState {
    return this.currentState;
  }

  get stationId(): string {
    return this.join.stationId;
  }

  /** Whether the server was heard from after `sinceMs` (performance.now() time): our link to it worked then. */
  heardSince(sinceMs: number): boolean {
    return this.currentState === 'joined' && this.lastHeard > sinceMs;
  }

  /**
   * Asks the server for a sign of life now, rather than at the next keepalive: the answer (or the keepalive's timeout
   * on its absence) settles whether our own link is up.
   */
  probe(): void {
    if (this.currentState !== 'joined' || this.awaitingPong || this.keepaliveTimer === undefined) return;
    this.awaitingPong = true;
    this.transmit({ type: 'ping', t: Date.now() });
  }

  /**
   * Sends offer, answer, candidate, bye (to a peer), talk, lines or ping. talk and lines are
   * also remembered, and re-applied after a reconnect; while not joined they are only remembered.
   */
  send(msg: ClientMessage): void {
    const checked = this.validate(msg);
    switch (checked.type) {
      case 'join':
        throw new SignallingSendError('already-joined', 'join is sent by the client itself', 'type');
      case 'lines':
        this.lines = checked.lines;
        break;
      case 'talk':
        this.talking = checked.lines;
        break;
      default:
        if (this.currentState !== 'joined') {
          throw new SignallingSendError('not-joined', `cannot send ${checked.type} while ${this.currentState}`);
        }
    }
    if (this.currentState === 'joined') this.transmit(checked);
  }

  /** Changes line membership; the server answers with `joined` naming the admitted lines. */
  setLines(lines: LineCredential[]): void {
    this.send({ type: 'lines', lines });
  }

  /** The lines this station is talking on right now ([] = silent). */
  setTalking(lines: string[]): void {
    this.send({ type: 'talk', lines });
  }

  /** Stops reconnecting, says bye and closes the socket. */
  close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopKeepalive();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.setState('closed');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.OPEN) {
        if (this.currentState === 'joined') this.transmit({ type: 'bye' });
        ws.close(1000, 'bye');
      } else {
        ws.terminate();
      }
    });
  }

  private validate(msg: unknown): ClientMessage {
    const result = checkClientMessage(msg);
    if (!result.ok) throw new SignallingSendError(result.error.code, result.error.message, result.error.field);
    const bytes = Buffer.byteLength(JSON.stringify(result.msg));
    if (bytes > MAX_MESSAGE_BYTES) {
      throw new SignallingSendError('too-large', `message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}`);
    }
    return result.msg;
  }

  private open(): void {
    if (this.stopped) return;
    const verify = this.url.startsWith('wss:') ? this.verifyServer : undefined;
    const timeoutMs = handshakeTimeoutMs(this.lastHandshakeMs);
    const startedAt = performance.now();
    let opened = false;
    let connectTimedOut = false;
    const connect = (options: NetConnectOpts): Socket => {
      const socket = this.url.startsWith('wss:') ? tlsConnect(tlsOptions(options)) : netConnect({ ...options, path: (options as { socketPath?: string }).socketPath } as NetConnectOpts);
      const limitMs = connectTimeoutMs(this.lastConnectMs);
      const timer = setTimeout(() => {
        connectTimedOut = true;
        socket.destroy(new Error(`no connection within ${limitMs} ms`));
      }, limitMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.lastConnectMs = performance.now() - startedAt;
      });
      socket.once('close', () => clearTimeout(timer));
      return socket;
    };
    const ws = new WebSocket(this.url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, createConnection: connect as typeof netConnect, ...(verify ? { rejectUnauthorized: false } : {}) });
    this.ws = ws;
    if (verify) ws.on('upgrade', (res) => this.checkServer(ws, res.socket as TLSSocket, verify));
    ws.on('open', () => {
      opened = true;
      this.lastHandshakeMs = performance.now() - startedAt;
      const talking = this.talking.filter((l) => this.lines.some((c) => c.line === l));
      this.transmit({ ...this.join, lines: this.lines, ...(talking.length > 0 ? { talking } : {}) });
      this.startKeepalive(ws);
    });
    ws.on('message', (data, isBinary) => {
      this.lastHeard = performance.now();
      if (!isBinary) this.receive(data.toString());
    });
    // A refused or broken connection reports here and then closes; the close schedules the retry.
    let failure: string | undefined;
    ws.on('error', (e: NodeJS.ErrnoException) => (failure = e.code));
    ws.on('close', () => {
      if (this.ws === ws) this.ws = undefined;
      this.stopKeepalive();
      if (this.stopped) {
        this.setState('closed');
        return;
      }
      // An attempt that timed out has waited already: the next goes out at once. One that found no route (a link
      // that is down) cost the server nothing: the next goes out soon, so the link's return is seen within moments.
      const timedOut = connectTimedOut || (!opened && performance.now() - startedAt >= timeoutMs);
      this.scheduleReconnect(timedOut ? 'timed-out' : !opened && failure !== undefined && UNREACHABLE.has(failure) ? 'unreachable' : 'failed');
    });
  }

  /** Before `open`, so a refused server never gets the join and its line secrets. */
  private checkServer(ws: WebSocket, socket: TLSSocket, verify: NonNullable<SignallingClientOptions['verifyServer']>): void {
    const fingerprint = socket.getPeerCertificate?.()?.fingerprint256;
    const host = new URL(this.url).host;
    const refusal = fingerprint ? verify({ host, fingerprint }) : `${host} presented no certificate`;
    if (refusal === undefined) return;
    this.stopped = true;
    ws.terminate();
    this.emit('untrusted', refusal);
  }

  private receive(text: string): void {
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      this.emitError({ type: 'error', ...parsed.error, message: `server sent a bad message: ${parsed.error.message}` });
      return;
    }
    const msg = parsed.msg;
    switch (msg.type) {
      case 'joined': {
        const rejoined = this.currentState !== 'joined';
        this.roster.replace(msg.peers);
        this.attempt = 0;
        this.setState('joined');
        this.emit('joined', msg);
        const talking = this.talking.filter((l) => msg.lines.includes(l));
        if (rejoined && talking.length > 0) this.transmit({ type: 'talk', lines: talking });
        return;
      }
      case 'pong':
        this.awaitingPong = false;
        return;
      case 'error':
        this.emitError(msg);
        if (FATAL_CODES.has(msg.code)) {
          void this.close();
        } else if (msg.code === 'duplicate-station') {
          // Our previous socket may still be dying on the server: retry later.
          this.ws?.close(1000, 'duplicate station; retrying');
        }
        return;
      case 'presence':
        this.roster.replace(msg.peers);
        this.emit('presence', msg);
        return;
      case 'presence-delta':
        this.roster.apply(msg);
        this.emit('presence', { type: 'presence', peers: this.roster.list() });
        return;
      case 'offer':
        this.emit('offer', msg);
        return;
      case 'answer':
        this.emit('answer', msg);
        return;
      case 'candidate':
        this.emit('candidate', msg);
        return;
      case 'bye':
        this.emit('bye', msg);
        return;
      case 'talk':
        this.emit('talk', msg);
        return;
      case 'call':
        this.emit('call', msg);
        return;
      case 'direct':
        this.emit('direct', msg);
        return;
      case 'line-carrier':
        this.emit('line-carrier', msg);
        return;
    }
  }

  /** Server errors are remote and non-fatal, so with no listener they are dropped rather than thrown. */
  private emitError(msg: ErrorMessage): void {
    if (this.listenerCount('error') > 0) this.emit('error', msg);
  }

  private scheduleReconnect(why: 'timed-out' | 'unreachable' | 'failed' = 'failed'): void {
    this.setState('reconnecting');
    const delay = why === 'timed-out' ? 0 : why === 'unreachable' ? this.backoff.initialMs : backoffDelay(this.backoff, this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  private startKeepalive(ws: WebSocket): void {
    if (this.keepaliveMs <= 0) return;
    this.awaitingPong = false;
    this.keepaliveTimer = setInterval(() => {
      if (this.awaitingPong) {
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      this.transmit({ type: 'ping', t: Date.now() });
    }, this.keepaliveMs);
  }

  private stopKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }

  private transmit(msg: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private setState(state: SignallingClientState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state);
  }
}
