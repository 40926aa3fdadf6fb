/**
 * The signalling server's administration of a Janus Gateway: one session kept open, a VideoRoom room per
 * Janus-carried line (audio only, Opus, private, with a pin that only the line's members learn), destroyed when the
 * line is no longer carried there. When the connection to Janus goes, every room goes with it: `lost` says so, and
 * the server reconnects on its own.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { JanusSession, type JanusHandle } from '../../common/janus-client';
import { Fingerprint } from '../../common/fingerprint';
import type { JanusLineAccess } from '../../common/signalling-protocol';
import { nodeJanusSocket } from '../../net/janus-socket';

export interface JanusConfig {
  /** The Janus WebSocket API, e.g. ws://127.0.0.1:8188 or wss://HOST:8989. Members connect to the same address. */
  url: string;
  /**
   * For a wss:// url: the SHA-256 of Janus's certificate, which is then the one trusted (self-signed, any host name),
   * by the server and by the members it tells. Without it, the system's CAs decide.
   */
  fingerprint?: string;
  /** The VideoRoom plugin's `admin_key`, when Janus requires one to create rooms. */
  adminKey?: string;
  /** How long to wait before trying again after Janus could not be reached or went. Default 2000 ms. */
  retryMs?: number;
}

/** A bad Janus setting, naming the field (`janus.url`, `janus.adminKey`...). */
export class JanusConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'JanusConfigError';
  }
}

export function checkJanusConfig(config: JanusConfig): JanusConfig {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new JanusConfigError('janus.url', `"${config.url}" is not a URL; give the Janus WebSocket API as ws://HOST:8188`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new JanusConfigError('janus.url', `"${config.url}" must be a ws:// or wss:// URL (the Janus WebSocket transport, e.g. ws://HOST:8188)`);
  if (url.port !== '' && !(Number(url.port) > 0)) throw new JanusConfigError('janus.url', `port of "${config.url}" must be 1..65535`);
  if (config.adminKey !== undefined && config.adminKey === '') throw new JanusConfigError('janus.adminKey', 'must not be empty (leave it out when Janus needs none)');
  if (config.retryMs !== undefined && !(config.retryMs > 0)) throw new JanusConfigError('janus.retryMs', `must be a positive number of ms, got ${config.retryMs}`);
  if (config.fingerprint === undefined) return config;
  const fingerprint = Fingerprint.safeParse(config.fingerprint);
  if (!fingerprint.success) throw new JanusConfigError('janus.fingerprint', `"${config.fingerprint}": ${fingerprint.error.issues[0]?.message ?? 'not a SHA-256 fingerprint'} (as openssl x509 -noout -fingerprint -sha256 prints it)`);
  if (url.protocol !== 'wss:') throw new JanusConfigError('janus.fingerprint', `pins the certificate of a wss:// Janus, but janus.url is "${config.url}"`);
  return { ...config, fingerprint: fingerprint.data };
}

export interface JanusRoomsEvents {
  /** Connected (again) to Janus: rooms can be made. */
  up: [];
  /** The connection to Janus went (or could not be made): every room made on it is gone. */
  lost: [reason: string];
}

export class JanusRooms extends EventEmitter<JanusRoomsEvents> {
  private session: JanusSession | undefined;
  private handle: JanusHandle | undefined;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly rooms = new Map<string, JanusLineAccess>();
  private closed = false;
  /** Why Janus is not usable now; undefined while it is. */
  problem: string | undefined = 'not connected yet';
  private readonly config: JanusConfig;

  constructor(config: JanusConfig) {
    super();
    this.config = checkJanusConfig(config);
  }

  get up(): boolean {
    return this.problem === undefined;
  }

  /** Connects, and keeps trying every retryMs until it does (or close). */
  start(): Promise<void> {
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    try {
      const session = await JanusSession.connect(this.config.url, nodeJanusSocket, this.config.fingerprint !== undefined ? { fingerprint: this.config.fingerprint } : {});
      const handle = await session.attach('janus.plugin.videoroom');
      this.session = session;
      this.handle = handle;
      this.problem = undefined;
      session.onClose((reason) => this.gone(`Janus at ${this.config.url}: ${reason}`));
      this.emit('up');
    } catch (e) {
      this.gone((e as Error).message);
    }
  }

  private gone(reason: string): void {
    this.session = undefined;
    this.handle = undefined;
    this.rooms.clear();
    const first = this.problem !== reason;
    this.problem = reason;
    if (first) this.emit('lost', reason);
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.start(), this.config.retryMs ?? 2000);
    this.retry.unref();
  }

  /** The room carrying `line`, made on first use. Rejects while Janus is not reachable. */
  async roomFor(line: string): Promise<JanusLineAccess> {
    const existing = this.rooms.get(line);
    if (existing) return existing;
    const handle = this.handle;
    if (!handle) throw new Error(this.problem ?? 'Janus is not connected');
    const room = randomInt(1, 2 ** 47);
    const pin = randomBytes(12).toString('base64url');
    try {
      await handle.request({
        request: 'create',
        room,
        description: `partyline ${line}`.slice(0, 60),
        is_private: true,
        pin,
        publishers: 1000,
        audiocodec: 'opus',
        audiolevel_ext: true,
        ...(this.config.adminKey ? { admin_key: this.config.adminKey } : {}),
      });
    } catch (e) {
      const message = (e as Error).message;
      // 403 from the VideoRoom plugin: the admin_key is missing or wrong.
      if (/unauthori[sz]ed|admin/i.test(message)) throw new JanusConfigError('janus.adminKey', `Janus refused to create a room: ${message}`);
      throw e;
    }
    const access: JanusLineAccess = { url: this.config.url, room, pin, ...(this.config.fingerprint !== undefined ? { fingerprint: this.config.fingerprint } : {}) };
    // A room made while this one was being made (two joins at once) wins; ours goes.
    const raced = this.rooms.get(line);
    if (raced) {
      void handle.request({ request: 'destroy', room, ...(this.config.adminKey ? { admin_key: this.config.adminKey } : {}) }).catch(() => undefined);
      return raced;
    }
    this.rooms.set(line, access);
    return access;
  }

  async destroyRoom(line: string): Promise<void> {
    const access = this.rooms.get(line);
    if (!access) return;
    this.rooms.delete(line);
    await this.handle?.request({ request: 'destroy', room: access.room, ...(this.config.adminKey ? { admin_key: this.config.adminKey } : {}) }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    for (const line of [...this.rooms.keys()]) await this.destroyRoom(line);
    await this.session?.close().catch(() => undefined);
  }
}
