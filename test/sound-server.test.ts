// The bridge on the sound server's own protocol when the server misbehaves: wedged, then dead. Its own daemon: the
// server does not survive this file.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PulseHarness, sleep } from '../testkit/pulse';

let pulse: PulseHarness;
let bridge: typeof import('../native/bridge');

before(async () => {
  pulse = await PulseHarness.start(['s']);
  pulse.adoptInThisProcess();
  bridge = require('../native/bridge') as typeof import('../native/bridge');
});
after(async () => {
  await pulse?.stop();
});

test('a wedged sound server: opening one of its devices gives up at the deadline with an error naming the field', () => {
  const resume = pulse.freeze();
  const started = performance.now();
  try {
    assert.throws(
      () => new bridge.PlaybackStream({ deviceId: pulse.devices('s').serverOutputId, chunkMs: 10, source: { pull: (n) => new Int16Array(n) } }),
      (e: unknown) => e instanceof bridge.BridgeError && e.code === 'open-failed' && e.field === 'outputId' && /did not answer within 3 s/.test(e.message),
    );
  } finally {
    resume();
  }
  const took = performance.now() - started;
  assert.ok(took >= 2900 && took < 4500, `gave up after ${took.toFixed(0)} ms`);
});

test('the sound server dies mid-show: both streams on its protocol say so at once, stop returns, and the next open names the field', async () => {
  const s = pulse.devices('s');
  const capture = new bridge.CaptureStream({ deviceId: s.serverInputId, chunkMs: 10, onChunk: () => {} });
  const playback = new bridge.PlaybackStream({ deviceId: s.serverOutputId, chunkMs: 10, source: { pull: (n) => new Int16Array(n) } });
  const lost = (stream: typeof capture | typeof playback) => new Promise<InstanceType<typeof bridge.BridgeError>>((resolve) => stream.on('error', resolve));
  const [capLost, playLost] = [lost(capture), lost(playback)];
  await sleep(500);
  assert.ok(capture.counters.chunks > 20 && playback.counters.chunks > 20, 'both were running');
  const killedAt = performance.now();
  pulse.kill();
  const errors = await Promise.race([Promise.all([capLost, playLost]), sleep(3000).then(() => undefined)]);
  assert.ok(errors, 'both streams reported the loss');
  const [capError, playError] = errors;
  assert.ok(performance.now() - killedAt < 1500, 'at once, not after the watchdog noticed a stall');
  assert.deepEqual([capError.code, capError.field], ['device-lost', 'inputId']);
  assert.deepEqual([playError.code, playError.field], ['device-lost', 'outputId']);
  assert.match(playError.message, /PulseAudio:s_spk#0/);
  assert.deepEqual(await Promise.all([capture.stop(), playback.stop()]), ['stopped', 'stopped']);
  assert.throws(
    () => new bridge.PlaybackStream({ deviceId: s.serverOutputId, chunkMs: 10, source: { pull: (n) => new Int16Array(n) } }),
    (e: unknown) => e instanceof bridge.BridgeError && e.code === 'open-failed' && e.field === 'outputId' && /no sound server answers/.test(e.message),
  );
});
