import { autoUpdater, DebUpdater, type AppUpdater, type Logger } from 'electron-updater';
import { FeedUpdateService } from './feed-update-service';
import type { FeedUrlOptions } from './feed-url';
import { NodeAppAdapter, type NodeAppAdapterOptions } from './node-app-adapter';
import { NodeHttpExecutor } from './node-http-executor';
import type { UpdateChannel } from './update-service';

export interface UpdateServiceOptions extends FeedUrlOptions {
  feedUrl: string;
  channel: UpdateChannel;
  logger?: Logger;
}

/**
 * For the Electron main process: electron-updater's own platform choice (NSIS, dmg, AppImage, or deb/rpm from
 * resources/package-type), with Electron's `app` and network stack. Never call this outside Electron.
 */
export function createAppUpdateService(options: UpdateServiceOptions): FeedUpdateService {
  return new FeedUpdateService({ ...options, updater: autoUpdater });
}

/**
 * Outside Electron (headless station, tests): a .deb updater with the real download and sha512 verification,
 * over Node's HTTP stack. Installing runs `dpkg -i` through pkexec/sudo, as in the app.
 */
export function createNodeUpdateService(options: UpdateServiceOptions & { app: NodeAppAdapterOptions }): FeedUpdateService {
  const updater: AppUpdater = new DebUpdater(null, new NodeAppAdapter(options.app));
  // electron-updater leaves httpExecutor unset when given an app adapter (it is @internal in its typings);
  // its own test-suite assigns a Node executor the same way.
  (updater as unknown as { httpExecutor: NodeHttpExecutor }).httpExecutor = new NodeHttpExecutor();
  return new FeedUpdateService({ ...options, updater });
}
