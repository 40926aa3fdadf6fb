/**
 * Serves one directory over HTTP GET/HEAD for the signalling server's port, so a browser guest can load its page
 * from the same origin it signals to. Nothing outside the directory is reachable (see http/static-handler.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { staticHandler, type StaticHandler } from '../http/static-handler';

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

const handlers = new Map<string, StaticHandler>();

/** Answers one HTTP request from `rootDir`, or with 404 when there is no such directory. */
export async function serveStatic(
  rootDir: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (rootDir === undefined) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(res, 405, 'method not allowed');
    }
    return reply(res, 404, 'not found (this port speaks the Partyline signalling protocol over WebSocket)');
  }
  let handler = handlers.get(rootDir);
  if (!handler) {
    handler = staticHandler(rootDir, {
      headers: () => ({ 'Cache-Control': 'no-cache' }),
      refuse: (r, status) => reply(r, status, status === 405 ? 'method not allowed' : 'not found'),
    });
    handlers.set(rootDir, handler);
  }
  return handler(req, res);
}
