// Child process for the sound-server loop test: carries its microphone to its speaker (after `prime` chunks queued),
// as a station's media thread carries its devices, in a process of its own: the test's thread, with its recordings,
// spawns and garbage, cannot hold the loop up. Says its devices once, then both streams' counters every 50 ms.
import { CaptureStream, PlaybackStream } from '../../native/bridge';

const [inputId, outputId, primeArg] = process.argv.slice(2);
const prime = Number(primeArg ?? 1);
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const ring: Int16Array[] = [];
const capture = new CaptureStream({ deviceId: inputId ?? null, chunkMs: 10, onChunk: (pcm) => ring.push(pcm.slice()) });
const playback = new PlaybackStream({
  deviceId: outputId ?? null,
  chunkMs: 10,
  source: {
    pull: (n) => {
      const out = new Int16Array(n);
      if (ring.length < prime) return out;
      for (let at = 0; at < n && ring.length > 0; ) {
        const head = ring[0] as Int16Array;
        const take = Math.min(n - at, head.length);
        out.set(head.subarray(0, take), at);
        at += take;
        if (take === head.length) ring.shift();
        else ring[0] = head.subarray(take);
      }
      return out;
    },
  },
});
say({ event: 'open', input: capture.device.hostApi, output: playback.device.hostApi });
setInterval(() => say({ event: 'counters', capture: capture.counters, playback: playback.counters }), 50);
process.on('SIGINT', async () => {
  await Promise.all([capture.stop(), playback.stop()]);
  say({ event: 'counters', capture: capture.counters, playback: playback.counters });
  process.exit(0);
});
