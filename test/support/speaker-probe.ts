// Child process for the server-buffer test: plays a steady 1 kHz tone at -12 dBFS to a device, and reports the
// speaker's counters every 50 ms, so that the test can stop and continue this whole process (every thread of it).
import { PlaybackStream } from '../../native/bridge';

const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const amplitude = 32767 * 10 ** (-12 / 20);
let phase = 0;
const playback = new PlaybackStream({
  deviceId: process.argv[2] ?? null,
  chunkMs: 10,
  source: {
    pull: (n) => {
      const pcm = new Int16Array(n);
      for (let i = 0; i < n; i++, phase++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 1000 * phase) / 48000));
      return pcm;
    },
  },
});
playback.on('error', (e) => say({ event: 'error', code: e.code, message: e.message }));
setInterval(() => say({ event: 'counters', ...playback.counters }), 50);
process.on('SIGINT', async () => {
  await playback.stop();
  process.exit(0);
});
