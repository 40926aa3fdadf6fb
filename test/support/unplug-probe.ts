// Child process for the unplug test: plays to a device, and on SIGINT stops and exits the way a station does.
import { PlaybackStream, exitProcess } from '../../native/bridge';

const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const playback = new PlaybackStream({ deviceId: process.argv[2] ?? null, chunkMs: 10, source: { pull: (n) => new Int16Array(n) } });
playback.on('error', (e) => say({ event: 'error', code: e.code, message: e.message }));
setInterval(() => say({ event: 'chunks', chunks: playback.counters.chunks }), 100);
process.on('SIGINT', async () => {
  say({ event: 'stopped', outcome: await playback.stop() });
  exitProcess(0, (line) => say({ event: 'log', line }));
});
