// electron-builder configuration for Partyline.
//
// A CommonJS module rather than JSON/YAML because two settings are decided when the build runs: the Electron
// distribution (ELECTRON_DIST, for offline builds) and the update feed URL (PARTYLINE_UPDATE_URL); and because the
// afterPack hook is passed as a function, so it resolves relative to this file whatever the working directory.
//
// Build: node build/bundle-main.mjs && electron-builder --config build/electron-builder.config.js --linux dir
// See docs/packaging.md.
'use strict';

const path = require('node:path');
const afterPack = require('./after-pack');

/** Where installed apps look for updates; the admin's own HTTPS server. See docs/updates.md. */
const updateFeedUrl = process.env.PARTYLINE_UPDATE_URL || 'https://updates.partyline.invalid/partyline/';

/** @type {import('electron-builder').Configuration} */
const config = {
  appId: 'app.partyline.station',
  productName: 'Partyline',
  executableName: 'partyline',
  copyright: 'Copyright © Partyline',
  directories: {
    buildResources: 'build',
    output: 'dist',
  },
  // package.json has no "main": the CLI/tests run TypeScript directly; only the packaged app uses the bundle.
  extraMetadata: { main: 'dist/main/main.js' },
  ...(process.env.ELECTRON_DIST ? { electronDist: path.resolve(process.env.ELECTRON_DIST) } : {}),

  // native/opus, native/portaudio and naudiodon's binding are N-API: all ABI-stable, so the binaries built for Node
  // load in Electron unchanged. A rebuild would need Electron headers (a download) and buys nothing.
  npmRebuild: false,
  nodeGypRebuild: false,

  files: [
    'dist/main/**',
    'dist/renderer/**',
    // The browser guest page a hosting station serves (builtGuestDir finds it beside dist/main).
    'dist/guest/**',
    // Source maps serve development; the installed app does not need them.
    '!dist/**/*.map',
    'native/opus/build/Release/partyline_opus.node',
    // Links naudiodon's libportaudio.so.2 through a relative runpath that holds inside app.asar.unpacked.
    'native/portaudio/build/Release/partyline_portaudio.node',
    // naudiodon's index.js (which requires segfault-handler) is never loaded: native/bridge dlopens the binding.
    // segfault-handler is a NAN module built for Node's ABI and writes crash.log into the cwd; keep it out.
    '!node_modules/segfault-handler{,/**}',
    '!node_modules/naudiodon/{portaudio,src,scratch}{,/**}',
    '!node_modules/naudiodon/build/Release/{obj.target,.deps,build}{,/**}',
    // @discordjs/opus (and its node-pre-gyp) is only the source of the libopus that native/opus compiles;
    // nothing loads it at run time.
    '!node_modules/@discordjs{,/**}',
    // uiohook-napi loads its prebuilt binary; its C sources are not needed at run time.
    '!node_modules/uiohook-napi/{libuiohook,src,binding.gyp}{,/**}',
    '!node_modules/**/{README*,CHANGELOG*,*.md,*.d.ts,*.map}',
  ],
  asar: true,
  // dlopen cannot read from inside an archive; libportaudio.so.2 must sit beside naudiodon.node for $ORIGIN.
  asarUnpack: [
    '**/*.node',
    'node_modules/naudiodon/build/Release/libportaudio.so.2',
  ],
  afterPack,

  publish: [{ provider: 'generic', url: updateFeedUrl }],
  // A stable release also writes beta-<platform>.yml, so beta users receive stable releases that are newer.
  generateUpdatesFilesForAllChannels: true,

  linux: {
    target: ['AppImage', 'deb'],
    category: 'AudioVideo',
    synopsis: 'Desktop intercom for crews',
    description: 'Party lines with low-latency two-way voice between stations and browsers.',
    maintainer: 'Partyline maintainers',
  },
  deb: {
    // Replaces electron-builder's default list, so Electron's own needs are repeated here.
    depends: [
      'libgtk-3-0 | libgtk-3-0t64',
      'libnotify4',
      'libnss3',
      'libxss1',
      'libxtst6',
      'xdg-utils',
      'libatspi2.0-0 | libatspi2.0-0t64',
      'libuuid1',
      'libsecret-1-0',
      // PortAudio (bundled) talks to the sound card through ALSA.
      'libasound2 | libasound2t64',
    ],
    // PulseAudio/PipeWire-pulse is how most desktops route ALSA clients; not strictly required.
    recommends: ['libpulse0', 'pipewire-alsa | pulseaudio'],
  },
  appImage: {
    artifactName: '${productName}-${version}-${arch}.${ext}',
  },

  win: {
    target: ['nsis'],
  },
  nsis: {
    oneClick: false,
    perMachine: false,
    allowToChangeInstallationDirectory: true,
  },

  mac: {
    target: ['dmg'],
    category: 'public.app-category.utilities',
    hardenedRuntime: true,
    entitlements: 'build/entitlements.mac.plist',
    entitlementsInherit: 'build/entitlements.mac.plist',
    extendInfo: {
      NSMicrophoneUsageDescription: 'Partyline sends your voice to the party lines you talk on.',
    },
  },
  dmg: {
    sign: false,
  },
};

module.exports = config;
