/** A static update feed on loopback (electron-updater's generic provider layout), published to as an admin would. */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createNodeUpdateService } from '../../electron/update/update-factory';
import type { UpdateChannel } from '../../electron/update/update-service';

const platformSuffix = process.arch === 'x64' ? '-linux' : `-linux-${process.arch}`;
export const channelFile = (channel: 'latest' | 'beta') => `${channel}${platformSuffix}.yml`;

export class UpdateFeed {
  readonly files = new Map<string, Buffer>();
  readonly requests: string[] = [];
  /** Artifact bytes are sent in slices this long apart, so a client sees the download progress (0: all at once). */
  throttleMs = 0;
  private server: http.Server | null = null;
  port = 0;

  async start(port = 0): Promise<void> {
    const server = http.createServer((req, res) => {
      const name = decodeURIComponent(new URL(req.url ?? '/', 'http://feed').pathname.slice(1));
      this.requests.push(name);
      const body = this.files.get(name);
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
      if (this.throttleMs === 0 || name.endsWith('.yml')) {
        res.end(body);
        return;
      }
      const slice = Math.ceil(body.length / 10);
      let offset = 0;
      const next = () => {
        if (res.destroyed) return;
        res.write(body.subarray(offset, offset + slice));
        offset += slice;
        if (offset >= body.length) res.end();
        else setTimeout(next, this.throttleMs);
      };
      next();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/partyline/`;
  }

  /** Publishes `version` as a .deb on `channel`; `served` lets a test serve other bytes than those hashed. */
  publish(channel: 'latest' | 'beta', version: string, artifact: Buffer, served: Buffer = artifact): string {
    const name = `partyline_${version}_amd64.deb`;
    const sha512 = createHash('sha512').update(artifact).digest('base64');
    this.files.set(`partyline/${name}`, served);
    this.files.set(
      `partyline/${channelFile(channel)}`,
      Buffer.from(
        [
          `version: ${version}`,
          'files:',
          `  - url: ${name}`,
          `    sha512: ${sha512}`,
          `    size: ${artifact.length}`,
          `path: ${name}`,
          `sha512: ${sha512}`,
          `releaseDate: '2026-11-20T10:00:00.000Z'`,
          `releaseNotes: Release ${version}`,
          '',
        ].join('\n'),
      ),
    );
    return name;
  }
}

/** A real FeedUpdateService (electron-updater's DebUpdater, Node HTTP, sha512 checks) for a station in `dir`. */
export function feedUpdateService(feed: UpdateFeed, dir: string, version: string, channel: UpdateChannel) {
  const appUpdateConfigPath = path.join(dir, 'app-update.yml');
  // What electron-builder writes into resources/ of a packaged app.
  writeFileSync(appUpdateConfigPath, `provider: generic\nurl: ${feed.url}\nupdaterCacheDirName: partyline-updater\n`);
  const cacheDir = path.join(dir, 'cache');
  const service = createNodeUpdateService({
    feedUrl: feed.url,
    channel,
    allowInsecureFeed: true,
    app: { version, name: 'Partyline', userDataDir: path.join(dir, 'user-data'), cacheDir, appUpdateConfigPath },
  });
  return { service, pendingDir: path.join(cacheDir, 'partyline-updater', 'pending') };
}
