// Bundles the Electron entry points into dist/electron/. The preload must be one self-contained file
// because a sandboxed preload cannot require npm packages (zod) at run time.
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(__dirname, '..', '..');

async function main(): Promise<void> {
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'cjs' as const,
    target: 'node22',
    sourcemap: true,
    logLevel: 'info' as const,
    external: ['electron'],
  };
  await build({
    ...common,
    entryPoints: [path.join(root, 'electron/preload.ts')],
    outfile: path.join(root, 'dist/electron/preload.js'),
  });
  await build({
    ...common,
    entryPoints: [path.join(root, 'electron/main.ts')],
    outfile: path.join(root, 'dist/electron/main.js'),
    // Native addons and the WebRTC stack stay in node_modules, loaded at run time.
    external: ['electron', 'naudiodon', 'werift', '@discordjs/opus', 'ws', '*.node'],
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
