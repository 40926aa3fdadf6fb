/**
 * Packaged-app self-check: loads both native modules the way the engine does and prints, as JSON, what they
 * see and which shared objects the process actually mapped (so a wrong rpath that silently fell back to a
 * system libportaudio shows up). Run it from an installed app with the app's own runtime:
 *   ELECTRON_RUN_AS_NODE=1 <install dir>/partyline <install dir>/resources/app.asar/dist/main/engine-probe.js
 */
import { readFileSync } from 'node:fs';
import { loadPortAudio } from '../native/bridge/binding';
import { listDevices } from '../native/bridge/devices';
import { libopusVersion } from '../native/opus/index';

function loadedNativeFiles(): string[] {
  if (process.platform !== 'linux') return [];
  const paths = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => /\s(\/\S.*)$/.exec(line)?.[1])
    .filter((file): file is string => file !== undefined && /libportaudio|\.node$/.test(file));
  return [...new Set(paths)];
}

const devices = listDevices();
// The stream binding: opens nothing, but must load (it links naudiodon's libportaudio).
const portAudioStream = typeof loadPortAudio().open === 'function';
process.stdout.write(`${JSON.stringify({ libopusVersion, devices, portAudioStream, nativeFiles: loadedNativeFiles() })}\n`);
