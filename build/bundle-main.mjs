// Bundles the Electron main process, the preload and the packaged-app probe into dist/main (CommonJS).
//
// Our TypeScript is bundled; npm dependencies stay external and ship in app.asar's node_modules
// (electron-builder collects the production dependencies), so native add-ons keep their package layout
// and werift/ws/zod load exactly as they do under Node in the tests.
//
// Usage: node build/bundle-main.mjs [--out <dir>]   (default out: dist/main)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// A sandboxed preload can require nothing but `electron`: it is bundled whole, zod included.
const entries = [
  { name: 'main', source: 'electron/electron-main/main.ts', selfContained: false },
  { name: 'preload', source: 'electron/electron-sandbox/preload.ts', selfContained: true },
  // The media (audio) thread's entry: WorkerMedia starts it from beside main.js.
  { name: 'media-worker', source: 'electron/engine/media/media-worker.ts', selfContained: false },
  // The network thread's entry: the media thread starts it from beside itself. werift is bundled into it: its DTLS
  // needs @shinyoshiaki/binary-data, which requires its own modules from a nested src/node_modules that
  // electron-builder leaves out of the app, so the packaged app could not load werift from node_modules.
  {
    name: 'network-worker',
    source: 'electron/engine/network/network-worker.ts',
    selfContained: false,
    bundle: ['werift'],
  },
  { name: 'engine-probe', source: 'build/engine-probe.ts', selfContained: false },
];

/**
 * Modules under native/ find their compiled .node next to their source (`path.join(__dirname, 'build', ...)`).
 * Bundled, `__dirname` would be dist/main; this gives each such module its own source directory back,
 * resolved at run time against the app root (dist/main/../..), which is where electron-builder puts native/.
 */
const nativeSourceDirname = {
  name: 'native-source-dirname',
  setup(build) {
    build.onLoad({ filter: /[\\/]native[\\/].*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!/\b__dirname\b/.test(source)) return undefined;
      const dir = path.relative(root, path.dirname(args.path)).split(path.sep).join('/');
      return {
        // __filename is the bundle's own (dist/main/<entry>.js), so three levels up is the app root.
        contents: `const __dirname = require('node:path').join(__filename, '..', '..', '..', ${JSON.stringify(dir)});\n${source}`,
        loader: 'ts',
      };
    });
  },
};

export async function bundleMain({ outDir = path.join(root, 'dist', 'main'), log = console.log } = {}) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const external = ['electron', ...Object.keys(pkg.dependencies ?? {}), '*.node'];
  const present = entries.filter((e) => existsSync(path.join(root, e.source)));
  for (const e of entries) {
    if (!present.includes(e)) log(`bundle-main: ${e.source} does not exist yet, skipped`);
  }
  for (const entry of present) {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: { [entry.name]: entry.source },
      outdir: outDir,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      // Electron 41 runs Node 24; the headless station and tests run Node 20.
      target: 'node20',
      external: entry.selfContained ? ['electron'] : external.filter((name) => !(entry.bundle ?? []).includes(name)),
      plugins: [nativeSourceDirname],
      sourcemap: 'linked',
      logLevel: 'warning',
    });
  }
  return present.map((e) => path.join(outDir, `${e.name}.js`));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outFlag = process.argv.indexOf('--out');
  const outDir = outFlag > 0 ? path.resolve(process.argv[outFlag + 1]) : undefined;
  const written = await bundleMain(outDir ? { outDir } : {});
  for (const file of written) console.log(`bundle-main: wrote ${path.relative(root, file)}`);
}
