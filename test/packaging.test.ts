import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractAll, listPackage } from '@electron/asar';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger, log, setPrinter } from 'builder-util';

// electron-builder logs to stdout, which node:test uses to talk to its runner: its lines corrupted that stream
// ("Unable to deserialize cloned data", failing this file and every one after it). Both of its outputs, the
// leveled log (a stream of its own) and the plain printer, go to stderr instead.
(log as unknown as { stream: NodeJS.WritableStream }).stream = process.stderr;
setPrinter((message) => process.stderr.write(`${message}\n`));

// One offline build of the unpacked Linux app (a stand-in Electron distribution, as on a machine without
// network), then every check reads that build.

const root = path.resolve(__dirname, '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'partyline-packaging-'));
const output = path.join(work, 'out');
const appOut = path.join(output, 'linux-unpacked');
const resources = path.join(appOut, 'resources');
const unpacked = path.join(resources, 'app.asar.unpacked');
const naudiodonBuild = path.join(root, 'node_modules', 'naudiodon', 'build');
const naudiodonBuildAside = `${naudiodonBuild}.moved-by-packaging-test`;

// js-yaml ships with electron-builder but without typings.
const yaml = require('js-yaml') as { load(text: string): unknown };

let asarEntries: string[] = [];

function readelfRunpath(file: string): string | null {
  const dynamic = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
  return /\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]/.exec(dynamic)?.[1] ?? null;
}

/** An interrupted run of this file must not leave the build tree without its naudiodon binary. */
function restoreNaudiodonBuild(): void {
  if (existsSync(naudiodonBuildAside) && !existsSync(naudiodonBuild)) renameSync(naudiodonBuildAside, naudiodonBuild);
}

before(() => {
  restoreNaudiodonBuild();
  const electronVersion = JSON.parse(readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
  const electronDist = path.join(work, 'electron-dist');
  mkdirSync(electronDist);
  writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\necho "stand-in Electron: packaging test only"\n');
  chmodSync(path.join(electronDist, 'electron'), 0o755);
  writeFileSync(path.join(electronDist, 'version'), electronVersion);

  // Exactly the README's offline build (bundles, renderer, electron-builder), into a scratch directory.
  const build = spawnSync('npm', ['run', 'package:dir', '--', `-c.directories.output=${output}`], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_DIST: electronDist, PARTYLINE_UPDATE_URL: 'https://updates.example.com/partyline/' },
  });
  assert.equal(build.status, 0, `npm run package:dir failed:\n${build.stdout}\n${build.stderr}`);
  asarEntries = listPackage(path.join(resources, 'app.asar'), { isPack: false }).map((e) => e.split(path.sep).join('/'));
});

after(() => {
  restoreNaudiodonBuild();
  rmSync(work, { recursive: true, force: true });
});

describe('unpacked Linux app', () => {
  test('app.asar holds the main, preload and probe bundles', () => {
    for (const file of ['/dist/main/main.js', '/dist/main/preload.js']) assert.ok(asarEntries.includes(file), `${file} in app.asar`);
    const pkg = JSON.parse(execFileSync(process.execPath, ['-e', `process.stdout.write(require('@electron/asar').extractFile(${JSON.stringify(path.join(resources, 'app.asar'))}, 'package.json'))`], { cwd: root, encoding: 'utf8' }));
    assert.equal(pkg.main, 'dist/main/main.js');
  });

  test('app.asar holds the renderer bundle and the guest page a hosting station serves', () => {
    assert.ok(asarEntries.includes('/dist/renderer/index.html'), 'dist/renderer/index.html in app.asar');
    assert.ok(asarEntries.includes('/dist/guest/index.html'), 'dist/guest/index.html in app.asar');
    assert.ok(asarEntries.some((e) => /^\/dist\/guest\/assets\/.*\.js$/.test(e)), 'the guest script in app.asar');
  });

  test('native binaries are unpacked, and the probe is packed', () => {
    assert.ok(asarEntries.includes('/dist/main/engine-probe.js'));
    assert.ok(asarEntries.includes('/dist/main/media-worker.js'), 'the media thread\'s bundle is packed beside main.js');
    assert.ok(asarEntries.includes('/dist/main/network-worker.js'), "the network thread's bundle is packed beside it");
    for (const file of [
      'node_modules/naudiodon/build/Release/naudiodon.node',
      'node_modules/naudiodon/build/Release/libportaudio.so.2',
      'native/opus/build/Release/partyline_opus.node',
      'native/portaudio/build/Release/partyline_portaudio.node',
    ]) {
      assert.ok(existsSync(path.join(unpacked, file)), `${file} in app.asar.unpacked`);
    }
  });

  test('segfault-handler, libopus sources and source maps stay out of the app', () => {
    const leaked = asarEntries.filter((e) => /\/node_modules\/(segfault-handler|@discordjs)\/|\.map$|\/naudiodon\/(portaudio|src)\//.test(e));
    assert.deepEqual(leaked, []);
  });

  test("naudiodon's runpath is $ORIGIN, where libportaudio.so.2 sits, and the build tree's copy is untouched", () => {
    const binding = path.join(unpacked, 'node_modules/naudiodon/build/Release/naudiodon.node');
    assert.equal(readelfRunpath(binding), '$ORIGIN');
    assert.ok(existsSync(path.join(path.dirname(binding), 'libportaudio.so.2')));
    assert.equal(readelfRunpath(path.join(naudiodonBuild, 'Release', 'naudiodon.node')), path.join(naudiodonBuild, 'Release'));
  });

  test("our PortAudio binding's relative runpath reaches the app's own libportaudio.so.2", () => {
    const binding = path.join(unpacked, 'native/portaudio/build/Release/partyline_portaudio.node');
    const runpath = readelfRunpath(binding);
    assert.equal(runpath, '$ORIGIN/../../../../node_modules/naudiodon/build/Release');
    const library = path.join(path.resolve(path.dirname(binding), (runpath as string).replace('$ORIGIN/', '')), 'libportaudio.so.2');
    assert.equal(library, path.join(unpacked, 'node_modules/naudiodon/build/Release/libportaudio.so.2'));
    assert.ok(existsSync(library));
  });

  test('app-update.yml points at the generic feed', () => {
    const config = yaml.load(readFileSync(path.join(resources, 'app-update.yml'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.provider, 'generic');
    assert.equal(config.url, 'https://updates.example.com/partyline/');
    assert.equal(typeof config.updaterCacheDirName, 'string');
  });

  test('the extracted app lists devices and loads Opus with the build tree out of the way', () => {
    const extracted = path.join(resources, 'app');
    extractAll(path.join(resources, 'app.asar'), extracted);
    let probe;
    renameSync(naudiodonBuild, naudiodonBuildAside);
    try {
      probe = spawnSync(process.execPath, [path.join(extracted, 'dist', 'main', 'engine-probe.js')], {
        cwd: work,
        encoding: 'utf8',
      });
    } finally {
      renameSync(naudiodonBuildAside, naudiodonBuild);
    }
    assert.equal(probe.status, 0, `engine probe failed:\n${probe.stderr}`);
    const report = JSON.parse(probe.stdout) as {
      libopusVersion: string;
      devices: { inputs: unknown[]; outputs: unknown[] };
      portAudioStream: boolean;
      mediaThread: string;
      nativeFiles: string[];
    };
    assert.equal(report.portAudioStream, true, 'the stream binding loads');
    assert.equal(report.mediaThread, 'answers', 'the media thread and its network thread start from the packaged bundles and answer');
    assert.ok(report.nativeFiles.includes(path.join(extracted, 'native/portaudio/build/Release/partyline_portaudio.node')));
    assert.match(report.libopusVersion, /^libopus \d+\.\d+/);
    assert.ok(Array.isArray(report.devices.inputs) && Array.isArray(report.devices.outputs));
    // This machine also has a system libportaudio: the mapped file proves $ORIGIN, not the fallback, found it.
    const portaudio = report.nativeFiles.filter((f) => f.includes('libportaudio'));
    assert.deepEqual(portaudio, [path.join(extracted, 'node_modules/naudiodon/build/Release/libportaudio.so.2')]);
    for (const file of report.nativeFiles) assert.ok(file.startsWith(extracted), `${file} loaded from the extracted app`);
  });
});

describe('resolved electron-builder configuration', () => {
  // electron-builder's own loader and schema validation: what a real build would see, including its checks.
  const effective = async () => {
    const config = await getConfig(root, path.join(root, 'build', 'electron-builder.config.js'), null);
    await validateConfiguration(config, new DebugLogger(false));
    return config as Record<string, any>;
  };

  test('Linux targets: AppImage and a deb with its audio runtime dependencies', async () => {
    const config = await effective();
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.ok(config.deb.depends.includes('libasound2 | libasound2t64'), 'deb depends on ALSA');
    assert.ok(config.deb.depends.includes('libnss3'), "deb keeps Electron's own dependencies");
    assert.ok(config.deb.recommends.includes('libpulse0'), 'deb recommends libpulse0');
  });

  test('Windows NSIS and a hardened macOS dmg allowed to use the microphone', async () => {
    const config = await effective();
    assert.deepEqual(config.win.target, ['nsis']);
    assert.deepEqual(config.mac.target, ['dmg']);
    assert.equal(config.mac.hardenedRuntime, true);
    assert.match(config.mac.extendInfo.NSMicrophoneUsageDescription, /voice/);
    const entitlements = readFileSync(path.join(root, config.mac.entitlements), 'utf8');
    assert.match(entitlements, /<key>com\.apple\.security\.device\.audio-input<\/key>\s*<true\/>/);
  });

  test('no native rebuild, native files unpacked, the afterPack hook set', async () => {
    const config = await effective();
    assert.equal(config.npmRebuild, false);
    assert.ok(config.asarUnpack.includes('**/*.node'));
    const patterns = (config.files as { filter: string[] }[]).flatMap((set) => set.filter);
    assert.ok(patterns.includes('!node_modules/segfault-handler{,/**}'));
    assert.equal(typeof config.afterPack, 'function');
    assert.equal(config.afterPack.name, 'afterPack');
  });
});

describe('runpath rewrite', () => {
  const { setRunpath, readRunpath } = require(path.join(root, 'build', 'elf-runpath.js')) as {
    setRunpath(file: string, runpath: string): string;
    readRunpath(file: string): string | null;
  };

  test('rewrites a copy and renames it over the file (a hard link to the build tree keeps its runpath); refuses a non-ELF file, naming it', () => {
    const original = path.join(work, 'naudiodon-original.node');
    writeFileSync(original, readFileSync(path.join(naudiodonBuild, 'Release', 'naudiodon.node')));
    const linked = path.join(work, 'naudiodon-linked.node');
    linkSync(original, linked);
    const before = readRunpath(original);
    assert.ok(before);
    assert.equal(setRunpath(linked, `$ORIGIN:${before}/longer`), before);
    assert.equal(readRunpath(linked), `$ORIGIN:${before}/longer`, 'a longer runpath fits too');
    assert.equal(readRunpath(original), before, 'the hard-linked original is untouched');
    const text = path.join(work, 'not-elf.node');
    writeFileSync(text, 'not a shared object');
    assert.throws(() => setRunpath(text, '$ORIGIN'), (err: Error) => err.message === `${text}: not an ELF file`);
  });
});
