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
import { WorkerMedia } from '../electron/engine/media/worker-media';

function loadedNativeFiles(): string[] {
  if (process.platform !== 'linux') return [];
  const paths = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => /\s(\/\S.*)$/.exec(line)?.[1])
    .filter((file): file is string => file !== undefined && /libportaudio|\.node$/.test(file));
  return [...new Set(paths)];
}

/** The media thread starts from its own bundle beside this one and answers: its engine, werift and Opus all loaded. */
async function mediaThread(): Promise<string> {
  const media = new WorkerMedia({ frameMs: 10, bitrate: 32000, application: 'audio', chunkMs: 10, playbackQueue: 2, metersHz: 25, healthHz: 2, loopbackCandidates: false, realtime: false });
  try {
    const reply = await media.call({ op: 'setTestTone', on: false });
    return reply.on === false ? 'answers' : `answered ${JSON.stringify(reply)}`;
  } catch (e) {
    return `failed: ${(e as Error).message}`;
  } finally {
    await media.close();
  }
}

void (async () => {
  const devices = listDevices();
  // The stream binding: opens nothing, but must load (it links naudiodon's libportaudio).
  const portAudioStream = typeof loadPortAudio().open === 'function';
  const media = await mediaThread();
  process.stdout.write(`${JSON.stringify({ libopusVersion, devices, portAudioStream, mediaThread: media, nativeFiles: loadedNativeFiles() })}\n`);
})();
