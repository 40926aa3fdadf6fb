// The impairing relay the impairment test and bench rely on: it does what its profile says, reproducibly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { UdpRelay, type Impairment } from '../testkit/udp-relay';

function rtp(seq: number): Buffer {
  const b = Buffer.alloc(40);
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(seq, 2);
  return b;
}

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

/** Sends `count` RTP packets A->B through a relay with `impairment`; resolves the sequence numbers B received, in order. */
async function through(impairment: Impairment, count: number, seed = 1): Promise<{ received: number[]; relay: UdpRelay }> {
  const relay = new UdpRelay(seed, { 'A->B': impairment });
  const [a, b] = await Promise.all([bound(), bound()]);
  const received: number[] = [];
  b.on('message', (m: Buffer) => received.push(m.readUInt16BE(2)));
  const exposed = await relay.expose({ address: '127.0.0.1', port: b.address().port }, { owner: 'B', peer: 'A' });
  for (let seq = 0; seq < count; seq++) {
    a.send(rtp(seq), exposed.port, exposed.address);
    if (seq % 20 === 19) await new Promise((r) => setTimeout(r, 2));
  }
  // Until everything sent has arrived or been dropped: the relay counts both.
  for (let i = 0; i < 500; i++) {
    const s = relay.stats('A->B');
    if (s.rtpIn === count && received.length === s.delivered && s.delivered === count - s.dropped + s.duplicated) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  a.close();
  b.close();
  relay.close();
  return { received, relay };
}

test('random loss drops about the configured share, and the same seed drops the same packets', async () => {
  const first = await through({ loss: 0.1 }, 2000, 7);
  const again = await through({ loss: 0.1 }, 2000, 7);
  const s = first.relay.stats('A->B');
  assert.equal(s.rtpIn, 2000);
  assert.ok(s.dropped > 140 && s.dropped < 260, `dropped ${s.dropped} of 2000`);
  assert.equal(first.received.length, 2000 - s.dropped);
  assert.deepEqual(first.received, again.received, 'seeded: the same packets survive');
});

test('burst loss comes in runs of about the configured length', async () => {
  const { received } = await through({ loss: 0.1, burstLength: 4 }, 3000, 3);
  const got = new Set(received);
  const runs: number[] = [];
  let run = 0;
  for (let seq = 0; seq < 3000; seq++) {
    if (!got.has(seq)) {
      run++;
    } else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
  const lost = 3000 - got.size;
  assert.ok(lost > 180 && lost < 450, `lost ${lost} of 3000`);
  assert.ok(mean > 2.8 && mean < 5.5, `mean burst ${mean.toFixed(2)} packets`);
});

test('jitter without reordering keeps the order; with reordering, packets overtake', async () => {
  const queued = await through({ jitterMs: 30 }, 600);
  assert.deepEqual(queued.received, [...queued.received].sort((x, y) => x - y), 'in order');
  assert.equal(queued.relay.stats('A->B').reordered, 0);
  assert.ok(queued.relay.stats('A->B').addedJitterMs > 0, 'delays vary');
  const shuffled = await through({ jitterMs: 30, reorder: true }, 600);
  assert.equal(shuffled.received.length, 600, 'nothing lost');
  assert.ok(shuffled.relay.stats('A->B').reordered > 10, `reordered ${shuffled.relay.stats('A->B').reordered}`);
});

test('duplicates arrive twice; STUN-like traffic is never impaired', async () => {
  const dup = await through({ duplicate: 0.2 }, 1000);
  const s = dup.relay.stats('A->B');
  assert.ok(s.duplicated > 120 && s.duplicated < 280, `duplicated ${s.duplicated}`);
  assert.equal(dup.received.length, 1000 + s.duplicated);

  const relay = new UdpRelay(1, { 'A->B': { loss: 1 } });
  const [a, b] = await Promise.all([bound(), bound()]);
  const got: Buffer[] = [];
  b.on('message', (m: Buffer) => got.push(m));
  const exposed = await relay.expose({ address: '127.0.0.1', port: b.address().port }, { owner: 'B', peer: 'A' });
  const stun = Buffer.alloc(20);
  stun.writeUInt16BE(0x0001, 0); // a binding request starts with 0x00
  a.send(stun, exposed.port, exposed.address);
  a.send(rtp(1), exposed.port, exposed.address);
  for (let i = 0; i < 100 && (got.length < 1 || relay.stats('A->B').rtpIn < 1); i++) await new Promise((r) => setTimeout(r, 10));
  a.close();
  b.close();
  relay.close();
  assert.equal(got.length, 1, 'the STUN packet passed, the RTP one was dropped');
  assert.equal(got[0]?.readUInt16BE(0), 0x0001);
});

test('candidates: UDP IPv4 host candidates become relay addresses, everything else is dropped', async () => {
  const relay = new UdpRelay(1);
  const route = { owner: 'A', peer: 'B' };
  const host = await relay.rewriteCandidate('candidate:1 1 udp 2130706431 192.0.2.2 50000 typ host', route);
  assert.match(host ?? '', /^candidate:1 1 udp 2130706431 127\.0\.0\.1 \d+ typ host$/);
  assert.equal(await relay.rewriteCandidate('candidate:2 1 tcp 1518280447 192.0.2.2 9 typ host tcptype active', route), null);
  assert.equal(await relay.rewriteCandidate('candidate:3 1 udp 2130706431 fe80::1 50000 typ host', route), null);
  assert.equal(await relay.rewriteCandidate('candidate:4 1 udp 1694498815 203.0.113.5 50000 typ srflx raddr 0.0.0.0 rport 0', route), null);
  assert.equal(await relay.rewriteCandidate('candidate:5 1 udp 2130706431 abc.local 50000 typ host', route), null);
  const sdp = ['v=0', 'a=candidate:1 1 udp 2130706431 192.0.2.2 50000 typ host', 'a=candidate:2 1 tcp 1 192.0.2.2 9 typ host', 'a=end-of-candidates', ''].join('\r\n');
  const rewritten = await relay.rewriteSdp(sdp, route);
  assert.equal(rewritten, ['v=0', host ? `a=${host}` : '', 'a=end-of-candidates', ''].join('\r\n'), 'the same relay port for the same candidate');
  relay.close();
});
