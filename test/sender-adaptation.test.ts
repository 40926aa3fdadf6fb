import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SenderAdaptation } from '../electron/engine/sender-adaptation';

const BASE = 32000;

/** One report per second from `receiver`, `loss` each, starting at `fromMs`; returns the time after the last. */
function feed(a: SenderAdaptation, receiver: string, losses: number[], fromMs = 0): number {
  let t = fromMs;
  for (const loss of losses) {
    a.report(receiver, loss, t);
    t += 1000;
  }
  return t;
}

test('a clean path: no FEC, the base bitrate', () => {
  const a = new SenderAdaptation({ baseBitrate: BASE });
  const t = feed(a, 'b', [0, 0, 0, 0]);
  assert.deepEqual(a.settings(['b'], t), { bitrate: BASE, fec: false, packetLossPercent: 1 });
});

test('5 % loss: FEC on, sized for about 5 %, bitrate raised to make room for it', () => {
  const a = new SenderAdaptation({ baseBitrate: BASE });
  const t = feed(a, 'b', [0.05, 0.04, 0.06, 0.05, 0.05]);
  const s = a.settings(['b'], t);
  assert.equal(s.fec, true);
  assert.ok(s.packetLossPercent >= 4 && s.packetLossPercent <= 7, `packetLossPercent ${s.packetLossPercent}`);
  assert.ok(s.bitrate > BASE && s.bitrate <= 40000, `bitrate ${s.bitrate}`);
});

test('loss protection rises on the first lossy report and decays over several clean ones', () => {
  const a = new SenderAdaptation({ baseBitrate: BASE });
  let t = feed(a, 'b', [0, 0, 0.2]);
  const hit = a.settings(['b'], t);
  assert.equal(hit.fec, true);
  assert.ok(hit.packetLossPercent >= 10, `one 20 % report already protects: ${hit.packetLossPercent} %`);
  t = feed(a, 'b', [0], t);
  const oneClean = a.settings(['b'], t);
  assert.equal(oneClean.fec, true, 'one clean report does not drop FEC');
  assert.ok(oneClean.packetLossPercent >= 8, `still ${oneClean.packetLossPercent} %`);
  t = feed(a, 'b', new Array<number>(30).fill(0), t);
  assert.deepEqual(a.settings(['b'], t), { bitrate: BASE, fec: false, packetLossPercent: 1 });
});

test('the worst receiver we send to decides; receivers we do not send to do not', () => {
  const a = new SenderAdaptation({ baseBitrate: BASE });
  feed(a, 'clean', [0, 0, 0]);
  feed(a, 'lossy', [0.1, 0.1, 0.1]);
  const t = feed(a, 'far', [0.3, 0.3, 0.3]);
  const both = a.settings(['clean', 'lossy'], t);
  assert.ok(both.packetLossPercent >= 9 && both.packetLossPercent <= 11, `clean+lossy: ${both.packetLossPercent} %`);
  assert.equal(a.worstLoss(['clean'], t), 0);
  assert.ok(a.settings(['clean', 'lossy', 'far'], t).packetLossPercent >= 29);
});

test('a receiver that stops reporting, or is forgotten, stops counting', () => {
  const a = new SenderAdaptation({ baseBitrate: BASE, reportTimeoutMs: 5000 });
  const t = feed(a, 'b', [0.2, 0.2]);
  assert.ok(a.worstLoss(['b'], t) > 0.15);
  assert.equal(a.worstLoss(['b'], t + 6000), 0, 'stale after the timeout');
  a.forget('b');
  assert.equal(a.worstLoss(['b'], t), 0, 'forgotten');
});

test('bitrate stays within the ceiling and loss percent within Opus range, whatever the reports say', () => {
  const a = new SenderAdaptation({ baseBitrate: BASE, maxBitrate: 48000 });
  const t = feed(a, 'b', [1, 1, 1, 2, -1, 1]);
  const s = a.settings(['b'], t);
  assert.equal(s.bitrate, 48000);
  assert.equal(s.packetLossPercent, 40);
  assert.equal(s.fec, true);
});
