// Builds the renderer into dist/renderer. Relative base so the same files load from app://partyline/
// (Electron) and from the headless station's bridge at http://127.0.0.1:PORT/.
import path from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: __dirname,
  base: './',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: path.resolve(__dirname, '..', 'dist', 'renderer'),
    emptyOutDir: true,
    target: 'chrome130',
    sourcemap: true,
    // The CSP forbids inline scripts; keep the module preload polyfill out of the page.
    modulePreload: { polyfill: false },
  },
  server: { fs: { allow: [path.resolve(__dirname, '..')] } },
});
