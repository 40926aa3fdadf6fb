// electron/engine/rtp-packetizer.ts: the numbering werift sends as given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacketizer } from '../electron/engine/rtp-packetizer';

test('RTP: sequence numbers count packets, timestamps count samples, the marker opens each talk spurt', () => {
  let r = 0.5;
  const p = new RtpPacketizer(() => r);
  const first = p.packetize(Buffer.from([1]), 0);
  const second = p.packetize(Buffer.from([2]), 480);
  p.endSpurt();
  // 50 frames of silence were captured but not sent: the timestamp jumps by their samples, the sequence does not.
  const third = p.packetize(Buffer.from([3]), 480 * 52);
  const wire = [first, second, third];
  assert.deepEqual(wire.map((x) => x.marker), [true, false, true]);
  assert.equal((wire[1]!.seq - wire[0]!.seq + 0x10000) % 0x10000, 1);
  assert.equal((wire[2]!.seq - wire[1]!.seq + 0x10000) % 0x10000, 1);
  assert.equal((wire[1]!.timestamp - wire[0]!.timestamp) >>> 0, 480);
  assert.equal((wire[2]!.timestamp - wire[1]!.timestamp) >>> 0, 480 * 51);
  assert.deepEqual([...wire[2]!.payload], [3]);
  r = 0.99999;
  const wrap = new RtpPacketizer(() => r);
  const a = wrap.packetize(Buffer.from([0]), 0);
  const b = wrap.packetize(Buffer.from([0]), 480);
  assert.equal(b.seq, (a.seq + 1) & 0xffff, 'sequence wraps at 16 bits');
  assert.equal(b.timestamp, (a.timestamp + 480) >>> 0, 'timestamp wraps at 32 bits');
});
