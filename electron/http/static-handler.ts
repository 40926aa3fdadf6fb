// Serves a directory over HTTP GET/HEAD: the renderer on the control bridge's port, the guest page on the
// signalling port. serve-static (send) does the HTTP (ranges, conditional requests, HEAD); before it, the path is
// checked against the directory's real path, symlinks included, so nothing outside it is ever reachable.
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import serveStatic from 'serve-static';

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

function isInside(root: string, file: string): boolean {
  return file === root || file.startsWith(root + path.sep);
}

/**
 * Maps a URL pathname ('/assets/x.js', '/') to a file under root, or null when there is none or the path tries to
 * leave root (by '..', an encoded NUL or a symlink). Directories resolve to their index.html.
 */
export async function resolveInside(rootDir: string, urlPathname: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  try {
    const root = await realpath(rootDir);
    const candidate = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
    if (!isInside(root, candidate)) return null;
    let file = await realpath(candidate);
    if ((await stat(file)).isDirectory()) file = await realpath(path.join(file, 'index.html'));
    if (!isInside(root, file)) return null;
    return (await stat(file)).isFile() ? file : null;
  } catch {
    return null;
  }
}

export interface StaticHandlerOptions {
  /** Headers for every file served, beside its Content-Type (a CSP, caching). */
  headers?: (file: string) => Record<string, string>;
  /** Answers what is not served: a method other than GET/HEAD (405), or no such file (404). */
  refuse: (res: ServerResponse, status: 404 | 405) => void;
}

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function staticHandler(rootDir: string, options: StaticHandlerOptions): StaticHandler {
  const serve = serveStatic(rootDir, {
    index: false,
    redirect: false,
    dotfiles: 'allow',
    fallthrough: true,
    cacheControl: false,
    setHeaders: (res, file) => {
      res.setHeader('Content-Type', contentTypeOf(file));
      res.setHeader('X-Content-Type-Options', 'nosniff');
      for (const [name, value] of Object.entries(options.headers?.(file) ?? {})) res.setHeader(name, value);
    },
  });
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return options.refuse(res, 405);
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const file = await resolveInside(rootDir, url.pathname);
    if (file === null) return options.refuse(res, 404);
    // serve-static is handed the checked file itself (relative to the real root), not the path as requested.
    const root = await realpath(rootDir);
    const checked = path.relative(root, file).split(path.sep).map(encodeURIComponent).join('/');
    const original = req.url;
    req.url = `/${checked}`;
    await new Promise<void>((resolve, reject) => {
      res.once('finish', resolve);
      res.once('close', resolve);
      serve(req, res, (error?: unknown) => {
        req.url = original;
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else {
          options.refuse(res, 404);
          resolve();
        }
      });
    });
  };
}
