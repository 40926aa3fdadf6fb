// What the engine needs of signalling, as types only: the engine drives a SignallingLink and a StationNetwork, and
// the composition root hands it the signalling folder's implementations. So the engine never imports signalling.
import type { Log } from './log';
import type { Backoff } from './backoff';
import type { ConnectConfig, DiscoveredHost, StationState } from './contract';
import type {
  ClientMessage,
  ErrorMessage,
  JoinedMessage,
  LineCarrierMessage,
  LineCredential,
  PresenceMessage,
  RelayedAnswer,
  RelayedBye,
  RelayedCall,
  RelayedCandidate,
  RelayedDirect,
  RelayedOffer,
  RelayedTalk,
  StationKind,
} from './signalling-protocol';

export interface SignallingClientOptions {
  url: string;
  stationId: string;
  name: string;
  kind: StationKind;
  lines: LineCredential[];
  backoff?: Partial<Backoff>;
  /** Protocol ping interval; an unanswered ping by the next one drops the socket and reconnects. Default 10000 ms, 0 disables. */
  keepaliveMs?: number;
  /**
   * For wss:// URLs: decides on the server's certificate (pinning replaces CA validation, since a station's
   * certificate is self-signed). Returns why it is refused, or undefined to go on. It runs before anything is sent;
   * a refusal stops the client (no reconnects) and is reported as `untrusted`.
   */
  verifyServer?: VerifyServer;
}

export type VerifyServer = (server: { host: string; fingerprint: string }) => string | undefined;

export type SignallingClientState = 'connecting' | 'joined' | 'reconnecting' | 'closed';

export interface SignallingClientEvents {
  state: [state: SignallingClientState];
  /** After every join, and after every accepted `lines` change. */
  joined: [msg: JoinedMessage];
  /** The complete, sorted list after every change, whether the server sent a list or a delta. */
  presence: [msg: PresenceMessage];
  offer: [msg: RelayedOffer];
  answer: [msg: RelayedAnswer];
  candidate: [msg: RelayedCandidate];
  bye: [msg: RelayedBye];
  talk: [msg: RelayedTalk];
  /** A call on one of our lines started or ended (ours too). */
  call: [msg: RelayedCall];
  /** A station starts or stops talking to us alone. */
  direct: [msg: RelayedDirect];
  /** A line's media moved between the mesh and Janus. */
  'line-carrier': [msg: LineCarrierMessage];
  /** Errors the server reported (or a server message that failed validation). */
  error: [msg: ErrorMessage];
  /** The server's certificate was refused by verifyServer; the client has stopped. */
  untrusted: [reason: string];
}

/** A station's joined, self-reconnecting connection to its signalling server. */
export interface SignallingLink {
  on<E extends keyof SignallingClientEvents>(event: E, listener: (...args: SignallingClientEvents[E]) => void): unknown;
  send(msg: ClientMessage): void;
  setLines(lines: LineCredential[]): void;
  setTalking(lines: string[]): void;
  /** Whether the server was heard from after `sinceMs` (performance.now() time) and we are joined. */
  heardSince(sinceMs: number): boolean;
  /** Asks the server for a sign of life now (a ping), rather than at the next keepalive. */
  probe(): void;
  close(): Promise<void>;
}

export type HostServer = Extract<ConnectConfig['server'], { kind: 'host' }>;

export interface HostingOptions {
  /** The station's data folder: where the generated certificate is kept. */
  dataDir: string | undefined;
  /** The operator's certificate and key, served instead of the generated one. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** The hosting station's signalling log. */
  log: Log;
}

export interface Hosted {
  server: { close(): Promise<void> };
  /** What this station's own client joins. */
  url: string;
  state: NonNullable<StationState['hosting']>;
  /** Our own client pins our own certificate, not a trust-store entry. */
  verifyServer: VerifyServer | undefined;
}

/** What a hosting station tells the LAN about itself. */
export interface LanAdvertisement {
  /** The hosting station's name (the service instance name). */
  name: string;
  port: number;
  lines: string[];
  /** The certificate's SHA-256 (TLS); absent: plain ws://. */
  fingerprint?: string;
}

export interface LanAdvertising {
  stop(): Promise<void>;
}

/** LAN discovery: a hosting station advertises itself, and the Connect screen browses for others. */
export interface LanDiscovery {
  /** Advertises a hosting station until the returned handle is stopped. */
  advertise(ad: LanAdvertisement): LanAdvertising;
  /** Hosts advertised on the LAN; the first call starts browsing, which goes on until stopBrowsing(). */
  hosts(): DiscoveredHost[];
  stopBrowsing(): Promise<void>;
}

/** How a station reaches its crew: join a server, host one, and decide whom it trusts when it joins. */
export interface StationNetwork {
  join(options: SignallingClientOptions): SignallingLink;
  host(server: HostServer, lines: ConnectConfig['lines'], options: HostingOptions): Promise<Hosted>;
  /** Trust on first use for a wss:// URL (undefined for ws://); `fingerprint` is the one the operator gave. */
  trust(url: string, fingerprint: string | undefined, log: Log): VerifyServer | undefined;
  /** The certificate fingerprint pinned for a host joined over wss://, if any. */
  pinned(host: string): string | undefined;
  /**
   * LAN discovery over mDNS; absent when off (the CLI and the desktop app turn it on), so a station in a test sends
   * no multicast where it should not.
   */
  lan?: LanDiscovery;
}
