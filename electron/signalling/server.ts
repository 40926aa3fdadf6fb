/**
 * The signalling server: admits stations to party lines, tells each station who shares its
 * lines, and relays WebRTC offers, answers and candidates between stations that share a line.
 * Embeddable in a station (`--host`) or run standalone (electron/cli/signal.ts).
 */
import { isUtf8 } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  CALL_TIMEOUT_MS,
  MAX_MESSAGE_BYTES,
  parseClientMessage,
  type ClientMessage,
  type ErrorCode,
  type JoinMessage,
  type LineCredential,
  type Presence,
  type ProtocolError,
  type ServerMessage,
  type StationKind,
} from '../common/signalling-protocol';
import { LineCalls } from './line-calls';
import { JanusConfigError, JanusRooms, type JanusConfig } from './janus/janus-rooms';
import { LineCarriers } from './janus/line-carriers';
import { originAllowed } from './origin';
import { serveStatic } from './static-files';

export interface SignallingServerOptions {
  /** 0 picks an ephemeral port. */
  port: number;
  /** Default 127.0.0.1: only this machine. Use 0.0.0.0 to serve a LAN. */
  host?: string;
  /** Credential table: line -> secret. A line not listed is open unless requireKnownLines. */
  lines?: Record<string, string>;
  requireKnownLines?: boolean;
  /**
   * Frames above MAX_MESSAGE_BYTES get a `too-large` reply; frames above this many bytes are
   * refused by ws itself, which closes the socket with 1009. Default 1 MiB.
   */
  maxPayload?: number;
  /** Certificate and key (PEM): serve HTTPS and WSS. Without them the server speaks plain HTTP and WS. */
  tls?: { cert: string; key: string };
  /** Directory served over HTTP GET on the same port (the browser guest page). */
  staticDir?: string;
  /** ws-level ping interval; a socket that misses one pong is dropped. Default 5000 ms. */
  heartbeatMs?: number;
  /** Per-connection token bucket. Default burst 200, 100 messages per second. */
  rateLimit?: { burst: number; perSecond: number };
  /** Bad messages (malformed, invalid, too-large, unknown-type, rate-limited) tolerated per window before the socket is closed with 1008. Default 20 per 10 s. */
  abuse?: { maxStrikes: number; windowMs: number };
  /** How long a call signal flashes unanswered. Default CALL_TIMEOUT_MS (10 s). */
  callTimeoutMs?: number;
  /** The Janus Gateway that carries large lines (see janus/). Without it every line is a mesh. */
  janus?: JanusConfig;
  /** Lines Janus always carries. */
  janusLines?: string[];
  /** Lines with more members than this move to Janus. */
  janusAbove?: number;
  /** The most members the mesh carries well; default DEFAULT_MESH_LIMIT. */
  meshLimit?: number;
  /** Stations on one line at most; one more gets `line-full` for that line. Default DEFAULT_MAX_LINE_MEMBERS. */
  maxLineMembers?: number;
  /**
   * Open WebSockets from one IP address at most; one more gets `too-many-connections` and is closed with 1013.
   * Default DEFAULT_MAX_CONNECTIONS_PER_ADDRESS.
   */
  maxConnectionsPerAddress?: number;
}

/** The most members a mesh line is taken to carry well; a Janus line falling back to the mesh beyond it says so. Set it from the scale bench's mesh_max_members. */
export const DEFAULT_MESH_LIMIT = 16;

export interface SignallingServerEvents {
  joined: [station: { stationId: string; name: string; kind: StationKind; lines: string[]; remote: string }];
  left: [station: { stationId: string; reason: LeaveReason }];
  /** A line moved between the mesh and Janus, or Janus came or went (one log line). */
  carrier: [line: string];
}

export type LeaveReason = 'bye' | 'disconnected' | 'replaced' | 'server-closed';

interface Station {
  id: string;
  name: string;
  kind: StationKind;
  lines: Set<string>;
  talking: Set<string>;
}

interface Connection {
  ws: WebSocket;
  remote: string;
  /** The IP address alone, what the per-address limit counts. */
  address: string;
  /** How this client wants presence (its join's `presence`). */
  presenceForm: 'full' | 'delta';
  /**
   * Stations whose presence changed for this receiver since its last presence message. Sent, coalesced, before
   * the next other message to it or at the end of the event-loop turn, so a burst of changes costs one message.
   */
  changed: Set<string>;
  station: Station | undefined;
  /** Its join's `resume` token: a later join presenting it is this client back, and takes over without a probe. */
  resume: string | undefined;
  /** Cleared on every heartbeat ping, set by the pong. */
  alive: boolean;
  tokens: number;
  refilledAt: number;
  strikes: number[];
  /** The last complete presence list sent (form `full`), so unchanged lists are not resent. */
  lastPresence: string;
  /**
   * Set while a join waits for its takeover probe. Messages are handled one at a time and answered in order, so
   * frames arriving meanwhile wait in `backlog`; only frames that passed every arrival check wait, and at most
   * MAX_BACKLOG_FRAMES / MAX_BACKLOG_BYTES of them.
   */
  busy: boolean;
  backlog: Waiting[];
  backlogFrames: number;
  backlogBytes: number;
}

/** A frame waiting for the join ahead of it, or the error replies owed for frames refused meanwhile (in order). */
type Waiting = { frame: Buffer } | { refused: ProtocolError; times: number };

/**
 * The built browser guest (`dist/guest`), from the source tree or from the bundled app (dist/main next to
 * dist/guest), or undefined when it was not built.
 */
export function builtGuestDir(): string | undefined {
  const candidates = [path.join(__dirname, '..', '..', 'dist', 'guest'), path.join(__dirname, '..', 'guest')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
}

const STRIKE_CODES = new Set<ErrorCode>(['malformed', 'invalid', 'too-large', 'unknown-type', 'rate-limited']);
/**
 * How much may wait on one connection while its join waits for a takeover probe (up to 2 s). A client has no reason
 * to send more than a few messages before `joined`; beyond this a frame is refused with `rate-limited`.
 */
export const MAX_BACKLOG_FRAMES = 32;
export const MAX_BACKLOG_BYTES = 1024 * 1024;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Well above what a mesh carries (see the scale bench in the README), and what one server handles comfortably. */
export const DEFAULT_MAX_LINE_MEMBERS = 256;
/** A crew's stations and guests each come from their own address; many from one is a script or a proxy. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;
const CLOSE_GRACE_MS = 300;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function positiveLimit(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer; got ${value}`);
  return value;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export class SignallingServer extends EventEmitter<SignallingServerEvents> {
  private readonly options: Required<Omit<SignallingServerOptions, 'staticDir' | 'tls' | 'janus' | 'janusLines' | 'janusAbove' | 'meshLimit'>> & { staticDir: string | undefined; tls: { cert: string; key: string } | undefined };
  private readonly secrets: Map<string, Buffer>;
  private readonly connections = new Set<Connection>();
  private readonly stations = new Map<string, Connection>();
  /** Line -> the joined connections on it. */
  private readonly members = new Map<string, Set<Connection>>();
  private readonly perAddress = new Map<string, number>();
  /** Connections with presence changes not sent yet; flushed once per event-loop turn. */
  private readonly presenceDue = new Set<Connection>();
  private presenceFlush: NodeJS.Immediate | undefined;
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly calls: LineCalls;
  private readonly janusRooms: JanusRooms | undefined;
  private readonly carriers: LineCarriers;

  constructor(options: SignallingServerOptions) {
    super();
    this.calls = new LineCalls((line, msg) => {
      for (const conn of this.members.get(line) ?? []) this.send(conn, msg);
    }, options.callTimeoutMs ?? CALL_TIMEOUT_MS);
    const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!(maxPayload >= MAX_MESSAGE_BYTES)) {
      throw new RangeError(`maxPayload must be at least MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES}); got ${maxPayload}`);
    }
    this.options = {
      port: options.port,
      host: options.host ?? '127.0.0.1',
      lines: options.lines ?? {},
      requireKnownLines: options.requireKnownLines ?? false,
      maxPayload,
      staticDir: options.staticDir,
      tls: options.tls,
      heartbeatMs: options.heartbeatMs ?? 5000,
      rateLimit: options.rateLimit ?? { burst: 200, perSecond: 100 },
      abuse: options.abuse ?? { maxStrikes: 20, windowMs: 10_000 },
      callTimeoutMs: options.callTimeoutMs ?? CALL_TIMEOUT_MS,
      maxLineMembers: positiveLimit('maxLineMembers', options.maxLineMembers ?? DEFAULT_MAX_LINE_MEMBERS),
      maxConnectionsPerAddress: positiveLimit('maxConnectionsPerAddress', options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
    };
    this.secrets = new Map(Object.entries(this.options.lines).map(([line, secret]) => [line, digest(secret)]));
    const janusLines = options.janusLines ?? [];
    if (!options.janus && janusLines.length > 0) throw new JanusConfigError('janus', `lines ${janusLines.join(', ')} are to be carried by Janus, but no Janus server is given (--janus ws://HOST:8188)`);
    if (!options.janus && options.janusAbove !== undefined) throw new JanusConfigError('janus', 'janusAbove moves large lines to Janus, but no Janus server is given (--janus ws://HOST:8188)');
    if (options.janusAbove !== undefined && !(Number.isInteger(options.janusAbove) && options.janusAbove >= 1)) throw new JanusConfigError('janusAbove', `must be a whole number of members >= 1, got ${options.janusAbove}`);
    this.janusRooms = options.janus ? new JanusRooms(options.janus) : undefined;
    this.carriers = new LineCarriers(
      this.janusRooms,
      { janusLines, ...(options.janusAbove !== undefined ? { janusAbove: options.janusAbove } : {}), meshLimit: options.meshLimit ?? DEFAULT_MESH_LIMIT },
      {
        members: (line) => {
          let n = 0;
          for (const conn of this.stations.values()) if (conn.station?.lines.has(line)) n++;
          return n;
        },
        broadcast: (line, msg) => {
          for (const conn of this.stations.values()) if (conn.station?.lines.has(line)) this.send(conn, msg);
        },
        log: (line) => this.emit('carrier', line),
      },
    );
  }

  /** Which lines Janus carries now, and where Janus is: for logs and tests. */
  lineCarrier(line: string): 'mesh' | 'janus' {
    return this.carriers.carrier(line);
  }

  /** Settles once the carriers of lines whose membership changed are decided. */
  carriersSettled(): Promise<void> {
    return this.carriers.settled();
  }

  async start(): Promise<{ port: number; url: string }> {
    if (this.http) throw new Error('SignallingServer already started');
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      serveStatic(this.options.staticDir, req, res).catch(() => res.destroy());
    };
    const tls = this.options.tls;
    const http = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, serve) : createServer(serve);
    // A client that fails the TLS handshake (a browser that does not trust the certificate yet) costs nothing else.
    http.on('tlsClientError', () => undefined);
    // UTF-8 is checked in arrive(): ws's own check closes the socket with 1007, where a bad frame is answered and the
    // sender stays connected, as with every other bad message.
    const wss = new WebSocketServer({
      server: http,
      maxPayload: this.options.maxPayload,
      perMessageDeflate: false,
      skipUTF8Validation: true,
      // Any web page a crew member opens could otherwise join open lines from their browser.
      verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, status?: number, reason?: string) => void) =>
        originAllowed(req.headers.origin, req.headers.host) ? done(true) : done(false, 403, 'Forbidden: a page from another origin'),
    });
    wss.on('connection', (ws, req) => this.accept(ws, req.socket.remoteAddress ?? '?', req.socket.remotePort ?? 0));
    // Errors surface on the http server (listen) and on each socket; the wss re-emits listen errors only.
    wss.on('error', () => {});
    this.http = http;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.options.port, this.options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
    // Janus down at start is not fatal: its lines start on the mesh and move once it answers.
    await this.janusRooms?.start();
    const { port } = http.address() as AddressInfo;
    return { port, url: `${tls ? 'wss' : 'ws'}://${urlHost(this.options.host)}:${port}/` };
  }

  /** Closes every socket (1001), waits briefly for the closing handshakes, then drops stragglers. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    clearImmediate(this.presenceFlush);
    this.presenceDue.clear();
    this.calls.close();
    for (const conn of this.connections) this.leave(conn, 'server-closed', false);
    await this.carriers.settled();
    await this.janusRooms?.close();
    const sockets = [...this.connections].map((c) => c.ws);
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            ws.close(1001, 'server shutting down');
          }),
      ),
    );
    this.wss?.close();
    const http = this.http;
    if (http?.listening) {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    }
  }

  private accept(ws: WebSocket, address: string, port: number): void {
    if (this.closing) {
      ws.terminate();
      return;
    }
    const open = this.perAddress.get(address) ?? 0;
    const limit = this.options.maxConnectionsPerAddress;
    if (open >= limit) {
      ws.on('error', () => {});
      const refusal: ServerMessage = { type: 'error', code: 'too-many-connections', message: `${address} already has ${open} connections open; the limit is ${limit}` };
      ws.send(JSON.stringify(refusal));
      ws.close(1013, 'too many connections from this address');
      return;
    }
    this.perAddress.set(address, open + 1);
    const conn: Connection = {
      ws,
      remote: `${address}:${port}`,
      address,
      presenceForm: 'full',
      changed: new Set(),
      station: undefined,
      resume: undefined,
      alive: true,
      tokens: this.options.rateLimit.burst,
      refilledAt: Date.now(),
      strikes: [],
      lastPresence: '',
      busy: false,
      backlog: [],
      backlogFrames: 0,
      backlogBytes: 0,
    };
    this.connections.add(conn);
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('message', (data, isBinary) => this.arrive(conn, data, isBinary));
    // ws reports frames above maxPayload (and protocol violations) here, then closes the socket itself.
    ws.on('error', () => {});
    ws.on('close', () => {
      this.connections.delete(conn);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      conn.backlog = [];
      if (!this.closing) this.leave(conn, 'disconnected', true);
    });
  }

  private beat(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  /**
   * Every check that needs no parsing (rate, size, binary, UTF-8, room in the backlog) happens on arrival, also while
   * a join is pending: a refused frame is never kept, and its strike counts at once, so abuse is cut off even then.
   */
  private arrive(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const refusal = this.screen(conn, frame, isBinary);
    if (refusal) {
      this.refuse(conn, refusal);
      return;
    }
    if (!conn.busy) {
      this.run(conn, frame);
      return;
    }
    conn.backlog.push({ frame });
    conn.backlogFrames += 1;
    conn.backlogBytes += frame.byteLength;
  }

  private screen(conn: Connection, frame: Buffer, isBinary: boolean): ProtocolError | undefined {
    if (!this.takeToken(conn)) return { code: 'rate-limited', message: 'too many messages; slow down' };
    const bytes = frame.byteLength;
    if (bytes > MAX_MESSAGE_BYTES) return { code: 'too-large', message: `message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}` };
    if (isBinary) return { code: 'malformed', message: 'messages must be text frames carrying JSON' };
    if (!isUtf8(frame)) return { code: 'malformed', message: 'a text frame must be valid UTF-8' };
    if (conn.busy && (conn.backlogFrames >= MAX_BACKLOG_FRAMES || conn.backlogBytes + bytes > MAX_BACKLOG_BYTES)) {
      return {
        code: 'rate-limited',
        message: `the join is still being checked and ${conn.backlogFrames} messages (${conn.backlogBytes} bytes) already wait behind it; this one was dropped (wait for joined)`,
      };
    }
    return undefined;
  }

  /** Answers a refused frame in its turn (after the replies to the frames before it) and counts the strike now. */
  private refuse(conn: Connection, error: ProtocolError): void {
    if (conn.busy) {
      const last = conn.backlog.at(-1);
      // A flood of one kind of refusal costs one entry, not one per frame.
      if (last && 'refused' in last && last.refused.code === error.code && last.refused.message === error.message) last.times += 1;
      else conn.backlog.push({ refused: error, times: 1 });
    } else {
      this.send(conn, { type: 'error', ...error });
    }
    this.strike(conn, error.code);
  }

  /** Handles one frame; a join that must wait for a takeover probe holds the frames behind it until it is done. */
  private run(conn: Connection, frame: Buffer): void {
    let pending: Promise<void> | undefined;
    try {
      pending = this.receive(conn, frame);
    } catch {
      // A bug here must cost one connection, not the process.
      conn.ws.close(1011, 'internal error');
      return;
    }
    if (!pending) return;
    conn.busy = true;
    pending
      .catch(() => conn.ws.close(1011, 'internal error'))
      .finally(() => {
        conn.busy = false;
        this.drain(conn);
      });
  }

  private drain(conn: Connection): void {
    while (!conn.busy) {
      const next = conn.backlog.shift();
      if (!next) return;
      if ('refused' in next) {
        for (let i = 0; i < next.times; i++) this.send(conn, { type: 'error', ...next.refused });
        continue;
      }
      conn.backlogFrames -= 1;
      conn.backlogBytes -= next.frame.byteLength;
      this.run(conn, next.frame);
    }
  }

  /** Parses and handles a frame that passed the arrival checks; a promise only while a join waits for its probe. */
  private receive(conn: Connection, frame: Buffer): Promise<void> | undefined {
    if (conn.ws.readyState !== WebSocket.OPEN) return undefined;
    const parsed = parseClientMessage(frame.toString('utf8'));
    if (!parsed.ok) {
      this.fail(conn, parsed.error);
      return undefined;
    }
    return this.handle(conn, parsed.msg);
  }

  private handle(conn: Connection, msg: ClientMessage): Promise<void> | undefined {
    if (msg.type === 'ping') {
      this.send(conn, { type: 'pong', t: msg.t });
      return undefined;
    }
    if (msg.type === 'join') return this.join(conn, msg);
    const station = conn.station;
    if (!station) {
      this.fail(conn, { code: 'not-joined', message: `join before sending ${msg.type}`, ref: msg.type });
      return undefined;
    }
    switch (msg.type) {
      case 'offer':
      case 'answer':
      case 'candidate':
      case 'direct':
        this.relay(conn, station, msg.to, { ...msg, from: station.id });
        return undefined;
      case 'bye':
        if (msg.to === undefined) this.leave(conn, 'bye', true);
        else this.relay(conn, station, msg.to, { type: 'bye', to: msg.to, from: station.id });
        return undefined;
      case 'talk':
        this.talk(conn, station, msg.lines);
        return undefined;
      case 'lines':
        this.changeLines(conn, station, msg.lines);
        return undefined;
      case 'call':
        if (!station.lines.has(msg.line)) {
          this.fail(conn, { code: 'invalid', message: `not a member of line ${msg.line}`, field: 'line', ref: 'call' });
        } else if (msg.on) {
          this.calls.start(msg.line, station);
        } else {
          this.calls.answer(msg.line, station);
        }
        return undefined;
    }
  }

  private join(conn: Connection, msg: JoinMessage): Promise<void> | undefined {
    if (conn.station) {
      this.fail(conn, { code: 'already-joined', message: `already joined as ${conn.station.id}`, ref: 'join' });
      return undefined;
    }
    const holder = this.stations.get(msg.stationId);
    if (holder) return this.takeOver(conn, holder, msg);
    this.seat(conn, msg);
    return undefined;
  }

  /** The holder may be a dead socket of this very station reconnecting: its token says so, or else ask it. */
  private async takeOver(conn: Connection, holder: Connection, msg: JoinMessage): Promise<void> {
    const sameClient = msg.resume !== undefined && holder.resume !== undefined && timingSafeEqual(digest(msg.resume), digest(holder.resume));
    if (!sameClient && (await this.answersPing(holder))) {
      this.fail(conn, {
        code: 'duplicate-station',
        message: `station id ${msg.stationId} is in use by a live connection`,
        field: 'stationId',
        ref: 'join',
      });
      return;
    }
    holder.ws.terminate();
    this.leave(holder, 'replaced', true);
    if (conn.ws.readyState !== WebSocket.OPEN || conn.station) return;
    if (this.stations.has(msg.stationId)) {
      this.fail(conn, { code: 'duplicate-station', message: `station id ${msg.stationId} was taken meanwhile`, field: 'stationId', ref: 'join' });
      return;
    }
    this.seat(conn, msg);
  }

  private seat(conn: Connection, msg: JoinMessage): void {
    const lines = this.admit(conn, msg.lines, 'join');
    const station: Station = {
      id: msg.stationId,
      name: msg.name,
      kind: msg.kind,
      lines,
      talking: new Set((msg.talking ?? []).filter((l) => lines.has(l))),
    };
    conn.station = station;
    conn.resume = msg.resume;
    conn.presenceForm = msg.presence ?? 'full';
    this.stations.set(station.id, conn);
    this.enrol(conn, station.lines);
    // How each line travels comes first: a member must not set up mesh calls for a line Janus carries.
    for (const carrier of this.carriers.messagesFor(station.lines)) this.send(conn, carrier);
    this.sendJoined(conn, station);
    for (const call of this.calls.active(station.lines)) this.send(conn, call);
    for (const line of station.lines) this.carriers.review(line);
    this.presenceChanged(this.peersOf(station), station.id);
    this.emit('joined', { stationId: station.id, name: station.name, kind: station.kind, lines: [...station.lines], remote: conn.remote });
  }

  /** The lines whose credentials hold and that have room; each refused line gets its own `bad-secret` or `line-full`. */
  private admit(conn: Connection, credentials: LineCredential[], ref: 'join' | 'lines'): Set<string> {
    const admitted = new Set<string>();
    for (const { line, secret } of credentials) {
      const expected = this.secrets.get(line);
      if (expected === undefined) {
        if (this.options.requireKnownLines) {
          this.fail(conn, { code: 'bad-secret', message: `line ${line} is not known on this server`, field: line, ref });
          continue;
        }
      } else if (secret === undefined || !timingSafeEqual(digest(secret), expected)) {
        this.fail(conn, { code: 'bad-secret', message: `wrong or missing secret for line ${line}`, field: line, ref });
        continue;
      }
      const members = this.members.get(line);
      const max = this.options.maxLineMembers;
      if (members && !members.has(conn) && members.size >= max) {
        this.fail(conn, { code: 'line-full', message: `line ${line} has ${members.size} members; the limit is ${max}`, field: line, ref });
        continue;
      }
      admitted.add(line);
    }
    return admitted;
  }

  private enrol(conn: Connection, lines: Iterable<string>): void {
    for (const line of lines) {
      let members = this.members.get(line);
      if (!members) this.members.set(line, (members = new Set()));
      members.add(conn);
    }
  }

  private unenrol(conn: Connection, lines: Iterable<string>): void {
    for (const line of lines) {
      const members = this.members.get(line);
      members?.delete(conn);
      if (members?.size === 0) this.members.delete(line);
    }
  }

  /** `joined` carries the complete list, so changes noted before it are already in it. */
  private sendJoined(conn: Connection, station: Station): void {
    conn.changed.clear();
    const peers = this.presenceFor(conn);
    if (conn.presenceForm === 'full') conn.lastPresence = JSON.stringify(peers);
    this.send(conn, { type: 'joined', stationId: station.id, lines: [...station.lines], peers });
  }

  private changeLines(conn: Connection, station: Station, credentials: LineCredential[]): void {
    const before = this.peersOf(station);
    const previous = station.lines;
    station.lines = this.admit(conn, credentials, 'lines');
    this.unenrol(conn, [...previous].filter((l) => !station.lines.has(l)));
    this.enrol(conn, station.lines);
    this.calls.leave(station.id, [...previous].filter((l) => !station.lines.has(l)));
    station.talking = new Set([...station.talking].filter((l) => station.lines.has(l)));
    const after = new Set(this.peersOf(station));
    // Stations that no longer share any line tear down their call to each other.
    for (const gone of before.filter((p) => !after.has(p))) {
      if (gone.station) {
        this.send(gone, { type: 'bye', from: station.id, to: gone.station.id });
        this.send(conn, { type: 'bye', from: gone.station.id, to: station.id });
      }
    }
    for (const carrier of this.carriers.messagesFor([...station.lines].filter((l) => !previous.has(l)))) this.send(conn, carrier);
    this.sendJoined(conn, station);
    for (const call of this.calls.active([...station.lines].filter((l) => !previous.has(l)))) this.send(conn, call);
    for (const line of new Set([...previous, ...station.lines])) this.carriers.review(line);
    this.presenceChanged(new Set([...before, ...after]), station.id);
  }

  private talk(conn: Connection, station: Station, lines: string[]): void {
    const foreign = lines.findIndex((l) => !station.lines.has(l));
    if (foreign >= 0) {
      this.fail(conn, { code: 'invalid', message: `not a member of line ${lines[foreign]}`, field: `lines.${foreign}`, ref: 'talk' });
      return;
    }
    station.talking = new Set(lines);
    const peers = this.peersOf(station);
    for (const peer of peers) {
      const shared = peer.station ? lines.filter((l) => peer.station?.lines.has(l)) : [];
      this.send(peer, { type: 'talk', lines: shared, from: station.id });
    }
    this.presenceChanged(peers, station.id);
  }

  private relay(conn: Connection, station: Station, to: string, msg: ServerMessage): void {
    const target = this.stations.get(to);
    if (!target?.station) {
      this.fail(conn, { code: 'unknown-peer', message: `no station ${to} is connected`, field: 'to', ref: msg.type });
      return;
    }
    if (target === conn || !this.sharesLine(station, target.station)) {
      this.fail(conn, { code: 'not-a-peer', message: `station ${to} shares no line with you`, field: 'to', ref: msg.type });
      return;
    }
    this.send(target, msg);
  }

  /** Removes the connection's station, if any: its peers get `bye` and fresh presence. */
  private leave(conn: Connection, reason: LeaveReason, notifyPeers: boolean): void {
    const station = conn.station;
    if (!station) return;
    const peers = this.peersOf(station);
    conn.station = undefined;
    conn.lastPresence = '';
    conn.changed.clear();
    this.unenrol(conn, station.lines);
    if (this.stations.get(station.id) === conn) this.stations.delete(station.id);
    this.calls.leave(station.id, station.lines);
    for (const line of station.lines) this.carriers.review(line);
    if (notifyPeers) {
      // A station that says bye hangs up on each peer (`to` says so); one whose socket went may be back in a moment,
      // and its peers keep calls that still carry audio (see docs/signalling.md).
      for (const peer of peers) this.send(peer, reason === 'bye' && peer.station ? { type: 'bye', from: station.id, to: peer.station.id } : { type: 'bye', from: station.id });
      this.presenceChanged(peers, station.id);
    }
    this.emit('left', { stationId: station.id, reason });
  }

  private sharesLine(a: Station, b: Station): boolean {
    for (const line of a.lines) if (b.lines.has(line)) return true;
    return false;
  }

  /** Cost follows the members of the station's own lines, not everyone on the server. */
  private peersOf(station: Station): Connection[] {
    const peers = new Set<Connection>();
    for (const line of station.lines) {
      for (const conn of this.members.get(line) ?? []) if (conn.station && conn.station !== station) peers.add(conn);
    }
    return [...peers];
  }

  /** How `peer` looks to `self`: only the lines they share. */
  private view(self: Station, peer: Station): Presence {
    return {
      stationId: peer.id,
      name: peer.name,
      kind: peer.kind,
      lines: [...peer.lines].filter((l) => self.lines.has(l)),
      talking: [...peer.talking].filter((l) => self.lines.has(l)),
    };
  }

  private presenceFor(conn: Connection): Presence[] {
    const self = conn.station;
    if (!self) return [];
    return this.peersOf(self)
      .flatMap((peer) => (peer.station ? [peer.station] : []))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((peer) => this.view(self, peer));
  }

  /** Notes that `stationId` changed for each of `conns`; the news goes out coalesced (see Connection.changed). */
  private presenceChanged(conns: Iterable<Connection>, stationId: string): void {
    for (const conn of conns) {
      if (!conn.station) continue;
      conn.changed.add(stationId);
      this.presenceDue.add(conn);
    }
    if (this.presenceDue.size > 0 && !this.presenceFlush && !this.closing) {
      this.presenceFlush = setImmediate(() => {
        this.presenceFlush = undefined;
        const due = [...this.presenceDue];
        this.presenceDue.clear();
        for (const conn of due) this.flushPresence(conn);
      });
    }
  }

  /**
   * Sends what changed since the receiver's last presence: a delta of just those stations (each looked up now, so
   * it is their current state), or for `full` clients the complete list when it differs from the last one.
   */
  private flushPresence(conn: Connection): void {
    const self = conn.station;
    if (!self || conn.changed.size === 0) return;
    const ids = [...conn.changed];
    conn.changed.clear();
    if (conn.presenceForm === 'full') {
      const peers = this.presenceFor(conn);
      const text = JSON.stringify(peers);
      if (text === conn.lastPresence) return;
      conn.lastPresence = text;
      this.write(conn, { type: 'presence', peers });
      return;
    }
    const set: Presence[] = [];
    const gone: string[] = [];
    for (const id of ids) {
      const peer = this.stations.get(id)?.station;
      if (peer && peer !== self && this.sharesLine(self, peer)) set.push(this.view(self, peer));
      else gone.push(id);
    }
    this.write(conn, { type: 'presence-delta', set, gone });
  }

  /** Whether a connection's socket answers a ws ping within a short probe window. */
  private answersPing(conn: Connection): Promise<boolean> {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (alive: boolean) => {
        clearTimeout(timer);
        ws.off('pong', onPong);
        ws.off('close', onClose);
        resolve(alive);
      };
      const onPong = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), Math.min(this.options.heartbeatMs, 2000));
      ws.on('pong', onPong);
      ws.on('close', onClose);
      ws.ping();
    });
  }

  private takeToken(conn: Connection): boolean {
    const { burst, perSecond } = this.options.rateLimit;
    const now = Date.now();
    conn.tokens = Math.min(burst, conn.tokens + ((now - conn.refilledAt) / 1000) * perSecond);
    conn.refilledAt = now;
    if (conn.tokens < 1) return false;
    conn.tokens -= 1;
    return true;
  }

  /** Replies with an error; abuse past the strike limit closes the socket with 1008. */
  private fail(conn: Connection, error: ProtocolError): void {
    this.send(conn, { type: 'error', ...error });
    this.strike(conn, error.code);
  }

  private strike(conn: Connection, code: ErrorCode): void {
    if (!STRIKE_CODES.has(code)) return;
    const { maxStrikes, windowMs } = this.options.abuse;
    const now = Date.now();
    conn.strikes = conn.strikes.filter((t) => now - t < windowMs);
    conn.strikes.push(now);
    if (conn.strikes.length > maxStrikes) conn.ws.close(1008, 'too many bad messages');
  }

  /** Presence changes still pending for this receiver go first, so every message reads against current presence. */
  private send(conn: Connection, msg: ServerMessage): void {
    if (conn.changed.size > 0) this.flushPresence(conn);
    this.write(conn, msg);
  }

  private write(conn: Connection, msg: ServerMessage): void {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(msg));
  }
}
