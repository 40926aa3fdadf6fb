// Child process for the sound-server loop test: carries its microphone to its speaker (after `prime` chunks queued),
// as a station's media thread carries its devices, at the raised priority a station asks for, in a process of its
// own: the test's thread, with its recordings, spawns and garbage, cannot hold the loop up. Says its devices once,
// then both streams' counters every 50 ms.
import { CaptureStream, PlaybackStream, raiseAudioPriority } from '../../native/bridge';
import { takeSamples } from './chunk-queue';

const [inputId, outputId, primeArg] = process.argv.slice(2);
// As a station does (its --priority raised default), before the devices' threads start, so that they inherit it.
raiseAudioPriority();
const prime = Number(primeArg ?? 1);
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const ring: Int16Array[] = [];
const capture = new CaptureStream({ deviceId: inputId ?? null, chunkMs: 10, onChunk: (pcm) => ring.push(pcm.slice()) });
const playback = new PlaybackStream({
  deviceId: outputId ?? null,
  chunkMs: 10,
  source: {
    pull: (n) => (ring.length >= prime ? takeSamples(ring, n) : new Int16Array(n)),
  },
});
say({ event: 'open', input: capture.device.hostApi, output: playback.device.hostApi });
setInterval(() => say({ event: 'counters', capture: capture.counters, playback: playback.counters }), 50);
process.on('SIGINT', async () => {
  await Promise.all([capture.stop(), playback.stop()]);
  say({ event: 'counters', capture: capture.counters, playback: playback.counters });
  process.exit(0);
});
