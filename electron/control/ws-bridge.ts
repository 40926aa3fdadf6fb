// The headless station's control surface: serves the built renderer over HTTP and speaks the control
// contract over a WebSocket at /control. Loopback-only and token-guarded unless explicitly opened up,
// because whoever holds this socket can key talk on every line.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import {
  CONTROL_PATH,
  type ControlError,
  type StationControl,
  WireRequest,
  type WireResponse,
  WS_CLOSE_UNAUTHORIZED,
} from '../common/contract';
import { originAllowed } from '../signalling/origin';
import { staticHandler, type StaticHandler } from '../http/static-handler';
import { appAssetHeaders } from './app-assets';
import { ControlDispatcher } from './dispatcher';

export interface ControlBridgeOptions {
  control: StationControl;
  /** Address to bind; loopback by default. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (e.g. from a controller's config); random when absent. */
  token?: string;
  /** Required to bind anything but loopback: the token then travels the LAN in clear over ws://. */
  allowRemote?: boolean;
  /** The built renderer (dist/renderer); without it only /control is served. */
  staticRoot?: string | null;
  reportFault?: (message: string) => void;
}

export interface ControlBridgeAddress {
  host: string;
  port: number;
  token: string;
  /** What the operator opens: the token rides in the fragment, so it never reaches server logs. */
  url: string;
}

const MAX_MESSAGE_BYTES = 64 * 1024;
/** Beyond this much unsent data a slow client stops getting meter frames rather than queueing them. */
const METER_BACKLOG_BYTES = 256 * 1024;

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export class ControlBridgeServer {
  private readonly dispatcher: ControlDispatcher;
  private readonly host: string;
  private readonly token: string;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private address: ControlBridgeAddress | null = null;
  /** The built renderer, with the app's CSP on every file; null without one. */
  private readonly assets: StaticHandler | null;

  constructor(private readonly options: ControlBridgeOptions) {
    this.host = options.host ?? '127.0.0.1';
    if (!isLoopbackHost(this.host) && options.allowRemote !== true) {
      throw new Error(
        `refusing to serve the control surface on non-loopback address ${this.host}: anyone who can reach it could ` +
          'operate this station; pass allowRemote: true (--allow-remote) to do so deliberately',
      );
    }
    if (options.token !== undefined && options.token.length < 16) {
      throw new Error('control token must be at least 16 characters');
    }
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.dispatcher = new ControlDispatcher(
      options.control,
      options.reportFault ? { transport: 'websocket', reportFault: options.reportFault } : { transport: 'websocket' },
    );
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
    this.assets = options.staticRoot
      ? staticHandler(options.staticRoot, {
          headers: appAssetHeaders,
          refuse: (res, status) => {
            res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
            res.end(status === 405 ? 'method not allowed\n' : 'not found\n');
          },
        })
      : null;
    this.http = createServer((req, res) => void this.serveHttp(req, res));
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  async start(): Promise<ControlBridgeAddress> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port ?? 0, this.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const bound = this.http.address();
    if (bound === null || typeof bound === 'string') throw new Error('control bridge did not bind a TCP port');
    const urlHost = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    const hostPart = isIP(urlHost) === 6 ? `[${urlHost}]` : urlHost;
    this.address = {
      host: this.host,
      port: bound.port,
      token: this.token,
      url: `http://${hostPart}:${bound.port}/#token=${this.token}`,
    };
    return this.address;
  }

  get url(): string {
    if (!this.address) throw new Error('control bridge not started');
    return this.address.url;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.close(1001, 'station shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private tokenMatches(candidate: string | null): boolean {
    if (candidate === null) return false;
    const given = Buffer.from(candidate);
    const expected = Buffer.from(this.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * A loopback-only bridge answers only requests addressed to a loopback name, so a foreign site that
   * rebinds its DNS name to 127.0.0.1 cannot reach it through the victim's browser.
   */
  private hostAllowed(hostHeader: string | undefined): boolean {
    if (this.options.allowRemote === true) return true;
    if (hostHeader === undefined) return false;
    try {
      const hostname = new URL(`http://${hostHeader}`).hostname.replace(/^\[(.*)\]$/, '$1');
      return isLoopbackHost(hostname);
    } catch {
      return false;
    }
  }

  private async serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://bridge');
    const plain = (status: number, text: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(`${text}\n`);
    };
    if (!this.hostAllowed(req.headers.host)) return plain(403, 'forbidden: unexpected Host header');
    if (url.pathname === CONTROL_PATH) {
      if (!this.tokenMatches(url.searchParams.get('token'))) return plain(401, 'unauthorized: missing or wrong token');
      return plain(426, 'this endpoint speaks WebSocket');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(405, 'method not allowed');
    if (!this.assets) return plain(404, 'no renderer here (build it with npm run build:renderer)');
    await this.assets(req, res);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://bridge');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== CONTROL_PATH) return refuse('404 Not Found');
    if (!this.hostAllowed(req.headers.host)) return refuse('403 Forbidden');
    // A browser page from another site must not drive the station even if it learned the token.
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host)) return refuse('403 Forbidden');
    const authorised = this.tokenMatches(url.searchParams.get('token'));
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // Completing the handshake before closing lets a browser client see why (4401), not just "failed".
      if (!authorised) return ws.close(WS_CLOSE_UNAUTHORIZED, 'unauthorized: missing or wrong token');
      this.attach(ws);
    });
  }

  private attach(ws: WebSocket): void {
    const send = (message: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
    };
    const unsubscribe = this.dispatcher.subscribe((event, payload) => {
      if (event === 'meters' && ws.bufferedAmount > METER_BACKLOG_BYTES) return;
      send({ event, payload });
    });
    ws.on('close', unsubscribe);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      void this.answer(isBinary ? null : data.toString()).then(send);
    });
  }

  private async answer(text: string | null): Promise<WireResponse> {
    const fail = (id: string | number | null, error: ControlError): WireResponse => ({ id, ok: false, error });
    if (text === null) return fail(null, { code: 'invalid', message: 'messages are JSON text frames' });
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return fail(null, { code: 'invalid', message: 'message is not JSON' });
    }
    const request = WireRequest.safeParse(raw);
    if (!request.success) {
      const issue = request.error.issues[0];
      const field = issue?.path.map(String).join('.') || undefined;
      const rawId = (raw as { id?: unknown } | null)?.id;
      const id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
      const message = `request: ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid'}`;
      return fail(id, field ? { code: 'invalid', field, message } : { code: 'invalid', message });
    }
    const { id, cmd, input } = request.data;
    const result = await this.dispatcher.dispatch(cmd, input);
    return result.ok ? { id, ok: true, output: result.output } : fail(id, result.error);
  }
}
