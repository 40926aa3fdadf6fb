// The layer rules of electron/README.md, enforced: `npm run lint` fails naming the rule a change breaks.
// Each folder's environment decides what it may import: anywhere-code (common) no Node and no Electron, Node code no
// Electron, and the engine and signalling only what they are given by a composition root (electron/compose, cli,
// main.ts).

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'common-imports-only-common',
      comment: 'electron/common runs anywhere (Node, preload, renderer, guest): only other common files and zod.',
      severity: 'error',
      from: { path: '^electron/common/' },
      to: { pathNot: ['^electron/common/', '^node_modules/zod/'] },
    },
    {
      name: 'electron-only-in-shell',
      comment:
        'Only the Electron entry points (main.ts, preload.ts, shell/) import electron; the rest runs in plain Node.',
      severity: 'error',
      from: { pathNot: ['^electron/(main|preload)\\.ts$', '^electron/shell/', '^test/', '^build/'] },
      to: { path: '^node_modules/electron/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'engine-not-signalling-or-app',
      comment:
        'The engine is given signalling (StationNetwork) and updates by the composition root; it never imports them, ' +
        'nor control, settings, shell, hotkeys or the entry points.',
      severity: 'error',
      from: { path: '^electron/engine/' },
      to: {
        path: [
          '^electron/(signalling|update|control|settings|shell|hotkeys|compose|cli|http)/',
          '^electron/(main|preload)\\.ts$',
        ],
      },
    },
    {
      name: 'signalling-not-engine-or-app',
      comment:
        'Signalling stands alone (it also runs as its own server): common, ws and zod, never the engine or the app.',
      severity: 'error',
      from: { path: '^electron/signalling/' },
      to: {
        path: [
          '^electron/(engine|update|control|settings|shell|hotkeys|compose|cli)/',
          '^electron/(main|preload)\\.ts$',
        ],
      },
    },
    {
      name: 'http-imports-only-common',
      comment:
        'electron/http is plain HTTP plumbing shared by the control bridge and signalling: Node, its packages, common.',
      severity: 'error',
      from: { path: '^electron/http/' },
      to: { path: '^electron/', pathNot: '^electron/(common|http)/' },
    },
    {
      name: 'services-not-entry-points',
      comment: 'Only entry points and composition roots (cli/, compose/, main.ts) may import those.',
      severity: 'error',
      from: { path: '^electron/(engine|signalling|hotkeys|settings|control|update|shell|http)/' },
      to: { path: ['^electron/(compose|cli)/', '^electron/main\\.ts$'] },
    },
    {
      name: 'preload-imports-only-common',
      comment:
        'The preload runs sandboxed beside the page: the shared layer (contract, control client, IPC channels) and electron.',
      severity: 'error',
      from: { path: '^electron/preload\\.ts$' },
      to: { pathNot: ['^electron/common/', '^node_modules/(electron|zod)/'] },
    },
    {
      name: 'browser-imports-only-browser-and-common',
      comment:
        'renderer/ and guest/ run in a browser: their own files, electron/common, and browser packages; no Node built-ins.',
      severity: 'error',
      from: { path: '^(renderer|guest)/src/' },
      to: {
        pathNot: ['^electron/common/', '^node_modules/(react|react-dom|zod|scheduler)/', '^$1/src/'],
      },
    },
    {
      name: 'browser-no-node-builtins',
      comment: 'Code that runs anywhere or in a browser cannot use Node built-ins.',
      severity: 'error',
      from: { path: ['^(renderer|guest)/src/', '^electron/common/', '^electron/preload\\.ts$'] },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'native-is-a-leaf',
      comment: 'native/ is the sound card and codec: it imports nothing of the app.',
      severity: 'error',
      from: { path: '^native/' },
      to: { path: ['^electron/', '^renderer/', '^guest/'] },
    },
    {
      name: 'node-code-not-browser-code',
      comment: 'Node and Electron code never reaches into the browser apps (they are built and served, not imported).',
      severity: 'error',
      from: { path: ['^electron/', '^native/'] },
      to: { path: '^(renderer|guest)/' },
    },
    {
      name: 'product-not-tests-or-benches',
      comment: 'Shipped code never imports tests, benches or their kit.',
      severity: 'error',
      from: { path: ['^electron/', '^native/', '^renderer/', '^guest/'] },
      to: { path: ['^test/', '^bench/', '^testkit/'] },
    },
    {
      name: 'tests-and-benches-share-only-testkit',
      comment: 'Benches and tests share what both need through testkit/; neither imports the other.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'tests-do-not-import-benches',
      comment: 'Benches and tests share what both need through testkit/; neither imports the other.',
      severity: 'error',
      from: { path: '^(test|testkit)/' },
      to: { path: '^bench/' },
    },
    {
      name: 'testkit-does-not-import-tests',
      comment: 'testkit/ is what tests and benches share: it needs neither.',
      severity: 'error',
      from: { path: '^testkit/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one; break it with a third that both import (types included).',
      severity: 'error',
      from: { pathNot: '^node_modules/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^native/[^/]+/build/', '^test/fixtures/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
  },
};
