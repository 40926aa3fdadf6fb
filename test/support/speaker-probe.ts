// Child process for the server-buffer test: plays a steady 1 kHz tone at -12 dBFS to a device, and reports the
// speaker's counters every 50 ms, so that the test can stop and continue this whole process (every thread of it).
//
// The tone stands for a live stream, as a playout is one: it holds what real time has brought since it started, and
// audio ahead of that only once it has built it by stretching (here a tenth of real time) after the speaker asked.
// `earlyMs` is the most the speaker pulled beyond that since the previous report: audio a playout would conceal.
// Its device thread gets SCHED_RR as a station's speaker thread does, so only the test's stalls stop it.
import { PlaybackStream } from '../../native/bridge';
import { describeGrant, realtimeDirect } from '../../native/bridge/realtime';

const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const amplitude = 32767 * 10 ** (-12 / 20);
const perMs = 48;
const STRETCH = 0.1;
let phase = 0;
let startedAt = NaN;
let pulled = 0;
let built = 0;
let askedAt = NaN;
let earlyMs = -Infinity;
const playback = new PlaybackStream({
  deviceId: process.argv[2] ?? null,
  chunkMs: 10,
  source: {
    pull: (n) => {
      const now = performance.now();
      if (Number.isNaN(startedAt)) startedAt = now;
      pulled += n;
      earlyMs = Math.max(earlyMs, (pulled - built) / perMs - (now - startedAt));
      const pcm = new Int16Array(n);
      for (let i = 0; i < n; i++, phase++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 1000 * phase) / 48000));
      return pcm;
    },
    prepareAhead: (n) => {
      const now = performance.now();
      if (Number.isNaN(askedAt)) askedAt = now;
      if ((now - askedAt) * perMs * STRETCH < n) return false;
      built += n;
      askedAt = NaN;
      return true;
    },
  },
});
playback.on('error', (e) => say({ event: 'error', code: e.code, message: e.message }));
let promoted = false;
setInterval(() => {
  if (!promoted && playback.deviceThreadId > 0) {
    promoted = true;
    say({ event: 'priority', grant: describeGrant(realtimeDirect('speaker', playback.deviceThreadId)) });
  }
  say({ event: 'counters', ...playback.counters, earlyMs });
  earlyMs = -Infinity;
}, 50);
process.on('SIGINT', async () => {
  await playback.stop();
  process.exit(0);
});
