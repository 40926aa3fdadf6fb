// The layer rules of electron/README.md, enforced: `npm run lint` fails naming the rule a change breaks.
// The folder says where code runs, and that decides what it may import: electron/common/ runs anywhere (no Node, no
// Electron), electron/electron-main/ and electron/electron-sandbox/ are the only Electron code, every other folder
// of electron/ is plain Node; renderer/ and guest/ are browser code. The engine and signalling get what they need
// from a composition root (electron/compose, cli, electron-main).

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
      name: 'electron-only-in-electron-folders',
      comment:
        'Only electron-main/ and electron-sandbox/ import electron; everything else under electron/ runs in plain Node (common/ anywhere).',
      severity: 'error',
      from: { pathNot: ['^electron/electron-(main|sandbox)/', '^test/', '^build/'] },
      to: { path: '^node_modules/electron/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'engine-not-signalling-or-app',
      comment:
        'The engine is given signalling (StationNetwork) and updates by the composition root; it never imports them, ' +
        'nor control, settings, hotkeys, http or the entry points.',
      severity: 'error',
      from: { path: '^electron/engine/' },
      to: {
        path: [
          '^electron/(signalling|update|control|settings|hotkeys|compose|cli|http|electron-main|electron-sandbox)/',
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
        path: '^electron/(engine|update|control|settings|hotkeys|compose|cli|electron-main|electron-sandbox)/',
      },
    },
    {
      name: 'net-imports-only-common',
      comment: 'electron/net is WebSocket plumbing the engine and signalling share: Node, its packages, common.',
      severity: 'error',
      from: { path: '^electron/net/' },
      to: { path: '^electron/', pathNot: '^electron/(common|net)/' },
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
      comment: 'Only entry points and composition roots (cli/, compose/, electron-main/) may import those.',
      severity: 'error',
      from: { path: '^electron/(engine|signalling|hotkeys|settings|control|update|http)/' },
      to: { path: '^electron/(compose|cli|electron-main|electron-sandbox)/' },
    },
    {
      name: 'preload-imports-only-common',
      comment:
        'The preload runs sandboxed beside the page: the shared layer (contract, control client, IPC channels) and electron.',
      severity: 'error',
      from: { path: '^electron/electron-sandbox/' },
      to: { pathNot: ['^electron/(common|electron-sandbox)/', '^node_modules/(electron|zod)/'] },
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
      from: { path: ['^(renderer|guest)/src/', '^electron/common/', '^electron/electron-sandbox/'] },
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
