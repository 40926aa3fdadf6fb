// Builds the browser guest into dist/guest. Relative base: the signalling server serves it from its own root.
import path from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: __dirname,
  base: './',
  build: {
    outDir: path.resolve(__dirname, '..', 'dist', 'guest'),
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: true,
    modulePreload: { polyfill: false },
  },
  server: { fs: { allow: [path.resolve(__dirname, '..')] } },
});
