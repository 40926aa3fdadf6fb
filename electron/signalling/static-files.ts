/**
 * Serves one directory over HTTP GET/HEAD for the signalling server's port, so a browser guest
 * can load its page from the same origin it signals to. Nothing outside the directory is reachable:
 * paths are normalised and then checked against the directory's real path (symlinks included).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

function isInside(root: string, file: string): boolean {
  return file === root || file.startsWith(root + path.sep);
}

async function resolveFile(rootDir: string, urlPath: string): Promise<string | undefined> {
  const root = await realpath(rootDir);
  const candidate = path.resolve(root, `.${urlPath}`);
  if (!isInside(root, candidate)) return undefined;
  try {
    let file = await realpath(candidate);
    if (!isInside(root, file)) return undefined;
    if ((await stat(file)).isDirectory()) {
      file = await realpath(path.join(file, 'index.html'));
      if (!isInside(root, file)) return undefined;
    }
    return (await stat(file)).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Answers one HTTP request from `rootDir`, or with 404 when there is no such directory. */
export async function serveStatic(rootDir: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    reply(res, 405, 'method not allowed');
    return;
  }
  if (rootDir === undefined) {
    reply(res, 404, 'not found (this port speaks the Partyline signalling protocol over WebSocket)');
    return;
  }
  let urlPath: string;
  try {
    urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    reply(res, 400, 'bad request path');
    return;
  }
  if (urlPath.includes('\0')) {
    reply(res, 400, 'bad request path');
    return;
  }
  const file = await resolveFile(rootDir, urlPath);
  if (file === undefined) {
    reply(res, 404, 'not found');
    return;
  }
  const size = (await stat(file)).size;
  res.writeHead(200, {
    'Content-Type': contentTypeOf(file),
    'Content-Length': size,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
