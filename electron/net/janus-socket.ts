/**
 * A WebSocket to Janus from Node (the `ws` package), for the signalling server and for a station's network thread. Over
 * wss:// the certificate is judged by checkJanusCertificate (the system's CAs, or exactly the pinned fingerprint) as
 * the TLS handshake ends, before any Janus request (an admin key, a room's pin) is sent; a refusal is the error the
 * session reports.
 */
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { checkJanusCertificate, type JanusSocket, type JanusSocketFactory } from '../common/janus-client';

export const nodeJanusSocket: JanusSocketFactory = (url, protocol, trust) => {
  if (!url.startsWith('wss:')) return new WebSocket(url, protocol) as unknown as JanusSocket;
  const createConnection = (options: ConnectionOptions & { host?: string }): TLSSocket => {
    const servername = options.servername ?? (options.host && !isIP(options.host) ? options.host : '');
    // Verified here rather than by Node, so a refusal can say what Janus presented.
    const socket = tlsConnect({
      ...options,
      path: undefined,
      servername,
      rejectUnauthorized: false,
    } as ConnectionOptions);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const authorizationError = socket.authorizationError === null ? undefined : String(socket.authorizationError);
      const refusal = checkJanusCertificate(url, trust, {
        ...(cert?.fingerprint256 ? { fingerprint256: cert.fingerprint256 } : {}),
        authorized: socket.authorized,
        ...(authorizationError ? { authorizationError } : {}),
      });
      if (refusal) socket.destroy(refusal);
    });
    return socket;
  };
  return new WebSocket(url, protocol, { createConnection: createConnection as never }) as unknown as JanusSocket;
};
