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

/**
 * The media thread starts from its own bundle beside this one and answers, and so does the network thread it starts
 * from beside it: a peer's offer is SDP that werift wrote.
 */
async function mediaThread(): Promise<string> {
  const media = new WorkerMedia({ frameMs: 10, bitrate: 32000, application: 'audio', chunkMs: 10, playbackQueue: 2, metersHz: 25, healthHz: 2, loopbackCandidates: false, realtime: false });
  try {
    const reply = await media.call({ op: 'setTestTone', on: false });
    if (reply.on !== false) return `answered ${JSON.stringify(reply)}`;
    const offered = new Promise<string>((resolve) => media.onEvent((e) => e.type === 'description' && resolve(e.sdp)));
    await media.call({ op: 'addPeer', id: 'probe', iceServers: [] });
    await media.call({ op: 'offer', id: 'probe' });
    const sdp = await offered;
    await media.call({ op: 'dropPeer', id: 'probe', why: 'probe' });
    return /m=audio .*\r?\n[\s\S]*a=rtpmap:\d+ opus\/48000/.test(sdp) ? 'answers' : `offered no Opus audio: ${sdp.slice(0, 200)}`;
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
