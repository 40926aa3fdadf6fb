/**
 * A WebSocket proxy in front of a signalling server that rewrites every ICE candidate a station sends (trickled, or
 * inside its SDP) to a UdpRelay address, so two stations connect only through the relay. The stations themselves are
 * unchanged: they are simply given the proxy's URL as their server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { UdpRelay } from './udp-relay';

export class SignallingProxy {
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly http: Server,
    readonly url: string,
  ) {}

  static async start(upstreamUrl: string, relay: UdpRelay, host = '127.0.0.1'): Promise<SignallingProxy> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((resolve) => http.listen(0, host, resolve));
    const proxy = new SignallingProxy(http, `ws://${host}:${(http.address() as AddressInfo).port}/`);
    wss.on('connection', (client, req) => proxy.bridge(client, new URL(req.url ?? '/', upstreamUrl).toString(), relay));
    return proxy;
  }

  private bridge(client: WebSocket, upstreamUrl: string, relay: UdpRelay): void {
    const upstream = new WebSocket(upstreamUrl, { perMessageDeflate: false });
    this.sockets.add(client).add(upstream);
    let stationId = '';
    // Rewriting awaits relay sockets; a chain keeps the station's messages in order.
    let toServer = new Promise<void>((resolve) => upstream.once('open', () => resolve()));
    client.on('message', (data: RawData) => {
      toServer = toServer.then(async () => {
        const msg = JSON.parse(data.toString()) as { type?: string; stationId?: string; to?: string; sdp?: string; candidate?: { candidate?: string } | null };
        if (msg.type === 'join' && msg.stationId) stationId = msg.stationId;
        const route = { owner: stationId, peer: msg.to ?? '' };
        if ((msg.type === 'offer' || msg.type === 'answer') && msg.sdp) msg.sdp = await relay.rewriteSdp(msg.sdp, route);
        if (msg.type === 'candidate' && msg.candidate?.candidate) {
          const rewritten = await relay.rewriteCandidate(msg.candidate.candidate, route);
          if (!rewritten) return;
          msg.candidate.candidate = rewritten;
        }
        if (upstream.readyState === WebSocket.OPEN) upstream.send(JSON.stringify(msg));
      });
    });
    upstream.on('message', (data: RawData) => client.readyState === WebSocket.OPEN && client.send(data.toString()));
    const closeBoth = () => {
      client.close();
      upstream.close();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
