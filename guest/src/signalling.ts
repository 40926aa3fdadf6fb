/** The guest's signalling connection: the same protocol and validation as a station's, over the page's WebSocket. */
import {
  PROTOCOL_VERSION,
  checkClientMessage,
  parseServerMessage,
  type ClientMessage,
  type LineCredential,
  type ServerMessage,
} from '../../electron/common/signalling-protocol';
import { PresenceRoster } from '../../electron/common/presence-roster';

export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
type Handlers = { [T in ServerMessage['type']]?: (msg: ServerMessageOf<T>) => void };

export class GuestSignalling {
  private readonly ws: WebSocket;
  private readonly handlers: Handlers = {};
  /** Deltas are folded in here, so the page always sees complete `presence` lists. */
  private readonly roster = new PresenceRoster();
  readonly closed: Promise<CloseEvent>;

  private constructor(url: string) {
    this.ws = new WebSocket(url);
    this.closed = new Promise((resolve) => this.ws.addEventListener('close', resolve, { once: true }));
    this.ws.addEventListener('message', (e) => {
      const parsed = parseServerMessage(String(e.data));
      if (!parsed.ok) {
        console.warn(`signalling: ignored a bad server message (${parsed.error.message})`);
        return;
      }
      let msg = parsed.msg;
      if (msg.type === 'joined' || msg.type === 'presence') this.roster.replace(msg.peers);
      if (msg.type === 'presence-delta') {
        this.roster.apply(msg);
        msg = { type: 'presence', peers: this.roster.list() };
      }
      const handler = this.handlers[msg.type] as ((msg: ServerMessage) => void) | undefined;
      handler?.(msg);
    });
  }

  /** Opens the socket to the server that served this page and joins; resolves once the server admitted us. */
  static async join(
    stationId: string,
    name: string,
    lines: LineCredential[],
  ): Promise<{ signalling: GuestSignalling; joined: ServerMessageOf<'joined'>; carriers: ServerMessageOf<'line-carrier'>[] }> {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const s = new GuestSignalling(`${scheme}//${location.host}/`);
    await new Promise<void>((resolve, reject) => {
      s.ws.addEventListener('open', () => resolve(), { once: true });
      s.ws.addEventListener('error', () => reject(new Error(`cannot reach the signalling server at ${location.host}`)), { once: true });
    });
    // How each line travels arrives before `joined`.
    const carriers: ServerMessageOf<'line-carrier'>[] = [];
    s.on('line-carrier', (m) => carriers.push(m));
    const joined = new Promise<ServerMessageOf<'joined'>>((resolve, reject) => {
      s.on('joined', resolve);
      s.on('error', (e) => reject(new Error(e.field ? `${e.message} (${e.field})` : e.message)));
      void s.closed.then((c) => reject(new Error(`signalling closed (${c.code})`)));
    });
    s.send({ type: 'join', stationId, name, kind: 'browser', lines, protocol: PROTOCOL_VERSION, presence: 'delta' });
    return { signalling: s, joined: await joined, carriers };
  }

  on<T extends ServerMessage['type']>(type: T, handler: (msg: ServerMessageOf<T>) => void): void {
    (this.handlers as Record<string, unknown>)[type] = handler;
  }

  /** Validates before sending, so a bad message is our error here, not a strike at the server. */
  send(msg: ClientMessage): void {
    const checked = checkClientMessage(msg);
    if (!checked.ok) throw new Error(`not sending ${msg.type}: ${checked.error.message}`);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(checked.msg));
  }

  leave(): void {
    this.send({ type: 'bye' });
    this.ws.close(1000, 'left');
  }
}
