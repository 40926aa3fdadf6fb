// Devices that are slow to start: an idle null sink the harness has not pinned (it renders in 2 s blocks until a
// client asks for low latency), as Bluetooth and USB headsets are slow to deliver their first period. Own daemon.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PulseHarness, sleep } from '../testkit/pulse';

let pulse: PulseHarness;
let bridge: typeof import('../native/bridge');

before(async () => {
  pulse = await PulseHarness.start([], {
    script: ['load-module module-null-sink sink_name=idle44 rate=44100 channels=2', 'load-module module-null-sink sink_name=idle48 rate=48000 channels=1'],
  });
  pulse.adoptInThisProcess();
  bridge = require('../native/bridge') as typeof import('../native/bridge');
});
after(async () => {
  await pulse?.stop();
});

for (const sink of ['idle44', 'idle48']) {
  test(`an unpinned, idle sink (${sink}) slow to start is waited for, not written off: both directions carry audio`, async () => {
    const errors: string[] = [];
    const captured: number[] = [];
    const capture = new bridge.CaptureStream({ deviceId: `PulseAudio:${sink}.monitor#0`, chunkMs: 5, onChunk: (pcm) => captured.push(pcm.length) });
    const playback = new bridge.PlaybackStream({ deviceId: `PulseAudio:${sink}#0`, chunkMs: 5, source: { pull: (n) => new Int16Array(n).fill(1000) } });
    capture.on('error', (e: Error) => errors.push(`capture: ${e.message}`));
    playback.on('error', (e: Error) => errors.push(`playback: ${e.message}`));
    try {
      await sleep(4000);
      assert.deepEqual(errors, []);
      const before = [capture.counters.chunks, playback.counters.chunks];
      await sleep(1000);
      // Once started, both move on the device clock: about 200 chunks of 5 ms a second.
      assert.ok(capture.counters.chunks - before[0]! > 150, `capture moved ${capture.counters.chunks - before[0]!} chunks in 1 s`);
      assert.ok(playback.counters.chunks - before[1]! > 150, `playback moved ${playback.counters.chunks - before[1]!} chunks in 1 s`);
    } finally {
      await Promise.all([capture.stop(), playback.stop()]);
    }
  });
}
