// Builds the browser guest (dist/guest) when it is missing or older than its sources, so that `npm install` and
// `npm run station` leave a hosting station something to serve. Quick when nothing changed.
//
// Usage: node build/ensure-guest.mjs [--force]
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist', 'guest', 'index.html');
// The guest imports electron/common (the protocol and the line-name rule) as well as its own folder.
const sources = [path.join(root, 'guest'), path.join(root, 'electron', 'common')];

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

const stale = process.argv.includes('--force') || !existsSync(built) || sources.some((dir) => newest(dir) > statSync(built).mtimeMs);
if (stale) {
  const { build } = await import('vite');
  await build({ configFile: path.join(root, 'guest', 'vite.config.ts'), logLevel: 'error' });
}
