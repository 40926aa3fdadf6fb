/**
 * A client of the Janus Gateway's JSON API over WebSocket (protocol `janus-protocol`): sessions, plugin handles,
 * requests answered by transaction, and the asynchronous events of each handle. It takes the WebSocket constructor
 * it is given (the `ws` package in Node, the page's own in a browser), so station, server and guest share it.
 */

/** What this client needs of a WebSocket: the part the `ws` package and a browser's WebSocket have in common. */
export interface JanusSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `error` carries the cause where the socket knows it (the `ws` package does; a browser says nothing). */
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: { data?: unknown; error?: unknown }) => void): void;
}
/** What to trust of a wss:// Janus: its certificate's SHA-256 when pinned, else the system's CAs. */
export interface JanusTrust {
  fingerprint?: string;
}
/** Opens the socket. Over wss:// a Node factory checks the certificate with checkJanusCertificate; a browser cannot. */
export type JanusSocketFactory = (url: string, protocol: string, trust: JanusTrust) => JanusSocket;

export interface Jsep {
  type: 'offer' | 'answer';
  sdp: string;
}

/** A handle's message from Janus: a plugin event (with `data`), maybe an SDP; or a lifecycle event. */
export interface JanusEvent {
  janus: string;
  data?: Record<string, unknown>;
  jsep?: Jsep;
  [key: string]: unknown;
}

export class JanusError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'JanusError';
  }
}

/** Janus presented a certificate that is not to be trusted; `field` names the setting that decides (`janus.fingerprint`, `janus.url`). */
export class JanusCertificateError extends JanusError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'JanusCertificateError';
  }
}

/** What a TLS connection learnt of the certificate Janus presented. */
export interface PresentedCertificate {
  fingerprint256?: string;
  /** Whether it chains to a trusted CA and names the host. */
  authorized: boolean;
  authorizationError?: string;
}

/**
 * Whether to go on with a wss:// Janus: with a pinned fingerprint, exactly that certificate (self-signed and any host
 * name allowed: the pin replaces both checks); without one, what the system's CAs and the host name say.
 */
export function checkJanusCertificate(url: string, trust: JanusTrust, presented: PresentedCertificate): JanusCertificateError | undefined {
  const got = presented.fingerprint256?.toUpperCase();
  if (trust.fingerprint !== undefined) {
    const pinned = trust.fingerprint.trim().toUpperCase();
    if (got === pinned) return undefined;
    return new JanusCertificateError('janus.fingerprint', `Janus at ${url} presented certificate SHA-256 ${got ?? '(none)'}, not the pinned ${pinned}`);
  }
  if (presented.authorized) return undefined;
  return new JanusCertificateError(
    'janus.url',
    `Janus at ${url} presented a certificate the system does not trust (${presented.authorizationError ?? 'unverified'}), SHA-256 ${got ?? '(none)'}; if it is your Janus's, pin it with janus.fingerprint (--janus-fingerprint)`,
  );
}

interface Pending {
  resolve: (msg: JanusEvent) => void;
  reject: (e: Error) => void;
  /** Plugin messages are acknowledged first and answered by an event later; an `ack` alone does not settle them. */
  awaitEvent: boolean;
}

const KEEPALIVE_MS = 20_000;

/** One Janus session over one WebSocket. Closes (and says why) when the socket does. */
export class JanusSession {
  private readonly pending = new Map<string, Pending>();
  private readonly handles = new Map<number, JanusHandle>();
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private next = 1;
  private closedWith: string | undefined;
  id = 0;

  private constructor(private readonly ws: JanusSocket) {}

  /**
   * Connects and creates a session; rejects with a JanusError naming the URL when Janus cannot be reached, or with the
   * factory's JanusCertificateError when its certificate is refused.
   */
  static async connect(url: string, socket: JanusSocketFactory, trust: JanusTrust = {}, timeoutMs = 5000): Promise<JanusSession> {
    let ws: JanusSocket;
    try {
      ws = socket(url, 'janus-protocol', trust);
    } catch (e) {
      throw new JanusError(`cannot open ${url}: ${(e as Error).message}`);
    }
    const session = new JanusSession(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new JanusError(`Janus at ${url} did not answer in ${timeoutMs} ms`));
        try {
          ws.close();
        } catch {
          /* never opened */
        }
      }, timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.addEventListener('error', (e) => {
        clearTimeout(timer);
        reject(e.error instanceof JanusCertificateError ? e.error : new JanusError(`cannot reach Janus at ${url}`));
      });
    });
    ws.addEventListener('message', (e) => session.receive(String(e.data)));
    ws.addEventListener('close', () => session.ended('Janus closed the connection'));
    const created = await session.request({ janus: 'create' });
    session.id = Number((created.data as { id: number }).id);
    session.keepalive = setInterval(() => {
      if (session.closedWith === undefined) session.request({ janus: 'keepalive', session_id: session.id }).catch(() => undefined);
    }, KEEPALIVE_MS);
    (session.keepalive as { unref?: () => void }).unref?.();
    return session;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedWith !== undefined) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  async attach(plugin: string): Promise<JanusHandle> {
    const answer = await this.request({ janus: 'attach', plugin, session_id: this.id });
    const handle = new JanusHandle(this, Number((answer.data as { id: number }).id));
    this.handles.set(handle.id, handle);
    return handle;
  }

  /** @internal A request; resolves with `success` (or the plugin's `event` for asynchronous plugin messages). */
  request(body: Record<string, unknown>, awaitEvent = false): Promise<JanusEvent> {
    if (this.closedWith !== undefined) return Promise.reject(new JanusError(`Janus session is closed: ${this.closedWith}`));
    const transaction = `t${this.next++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(transaction, { resolve, reject, awaitEvent });
      try {
        this.ws.send(JSON.stringify({ ...body, transaction }));
      } catch (e) {
        this.pending.delete(transaction);
        reject(new JanusError(`cannot send to Janus: ${(e as Error).message}`));
      }
    });
  }

  /** @internal */
  forget(handle: JanusHandle): void {
    this.handles.delete(handle.id);
  }

  private receive(text: string): void {
    let msg: JanusEvent & { transaction?: string; sender?: number; error?: { code: number; reason: string }; plugindata?: { data: Record<string, unknown> } };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.plugindata) msg.data = msg.plugindata.data;
    const pending = msg.transaction ? this.pending.get(msg.transaction) : undefined;
    if (pending) {
      if (msg.janus === 'ack' && pending.awaitEvent) return;
      this.pending.delete(msg.transaction as string);
      const pluginError = msg.data && typeof msg.data.error === 'string' ? (msg.data as { error: string; error_code?: number }) : undefined;
      if (msg.janus === 'error') pending.reject(new JanusError(msg.error?.reason ?? 'Janus error', msg.error?.code));
      else if (pluginError) pending.reject(new JanusError(pluginError.error, pluginError.error_code));
      else pending.resolve(msg);
      return;
    }
    if (msg.sender !== undefined) this.handles.get(msg.sender)?.deliver(msg);
  }

  private ended(reason: string): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    clearInterval(this.keepalive);
    for (const p of this.pending.values()) p.reject(new JanusError(reason));
    this.pending.clear();
    for (const l of this.closeListeners.splice(0)) l(reason);
  }

  /** Destroys the session (and with it every handle) and closes the socket. */
  async close(): Promise<void> {
    if (this.closedWith !== undefined) return;
    await Promise.race([this.request({ janus: 'destroy', session_id: this.id }).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    this.ended('closed');
    try {
      this.ws.close(1000);
    } catch {
      /* already closed */
    }
  }
}

/** One plugin handle of a session. */
export class JanusHandle {
  private readonly listeners: ((event: JanusEvent) => void)[] = [];

  constructor(
    private readonly session: JanusSession,
    readonly id: number,
  ) {}

  /** A synchronous plugin request (create, destroy, exists, list...): the plugin's answer data. */
  async request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await this.session.request({ janus: 'message', session_id: this.session.id, handle_id: this.id, body });
    return answer.data ?? {};
  }

  /** An asynchronous plugin message (join, configure, start...): the event that answers it, with its SDP if any. */
  message(body: Record<string, unknown>, jsep?: Jsep): Promise<JanusEvent> {
    return this.session.request({ janus: 'message', session_id: this.session.id, handle_id: this.id, body, ...(jsep ? { jsep } : {}) }, true);
  }

  async trickle(candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null): Promise<void> {
    await this.session.request({ janus: 'trickle', session_id: this.session.id, handle_id: this.id, candidate: candidate ?? { completed: true } });
  }

  /** Events Janus sends on its own: other participants, `webrtcup`, `hangup`, renegotiation offers. */
  onEvent(listener: (event: JanusEvent) => void): void {
    this.listeners.push(listener);
  }

  /** @internal */
  deliver(event: JanusEvent): void {
    for (const l of this.listeners) l(event);
  }

  async detach(): Promise<void> {
    this.session.forget(this);
    await this.session.request({ janus: 'detach', session_id: this.session.id, handle_id: this.id }).catch(() => undefined);
  }
}
