// The station's calls on their own (electron/engine/control/peer-calls.ts), with everything around them injected: a
// recording media side and a context that says who we are, whether we are joined, and which members the mesh carries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linesLog } from '../electron/compose/log';
import { PeerCalls, type CallContext } from '../electron/engine/control/peer-calls';
import type { MediaCommand, PeerMediaHealth } from '../electron/engine/media/media-protocol';
import type { ClientMessage, Presence } from '../electron/common/signalling-protocol';

const presence = (stationId: string, lines: string[], talking: string[] = []): Presence => ({ stationId, name: stationId.toUpperCase(), kind: 'station', lines, talking });
const tick = () => new Promise((r) => setImmediate(r));

function callsAs(ourId: string, options: { janusOnly?: string[]; reofferWaitMs?: number } = {}) {
  const media: MediaCommand[] = [];
  const sent: ClientMessage[] = [];
  const log: string[] = [];
  const dropped: string[] = [];
  const changes: boolean[] = [];
  const world = { joined: true, heard: true, probes: 0 };
  const ctx: CallContext = {
    media: {
      call: async (command) => {
        media.push(command);
        return undefined as never;
      },
    },
    log: linesLog((line) => log.push(line)),
    send: (msg) => sent.push(msg),
    ourId: () => ourId,
    signalling: () => ({ heardSince: () => world.heard, probe: () => void world.probes++ }),
    joined: () => world.joined,
    iceServers: () => [],
    needsMesh: (p) => !(options.janusOnly ?? []).includes(p.stationId),
    changed: (announce) => changes.push(announce),
    dropped: (id) => dropped.push(id),
    notice: () => undefined,
  };
  const calls = new PeerCalls(ctx, { noRtpMs: 2000, browserGoneMs: 3000, staleRtpMs: 10_000, reofferWaitMs: options.reofferWaitMs ?? 3000 });
  const ops = (...wanted: MediaCommand['op'][]) => media.filter((c) => wanted.includes(c.op)).map((c) => `${c.op}${'id' in c ? ` ${c.id}` : ''}`);
  return { calls, media, sent, log, dropped, changes, world, ops };
}

const health = (id: string, connection: PeerMediaHealth['connection']): PeerMediaHealth => ({
  id,
  connection,
  rttMs: null,
  jitterMs: 0,
  lossRate: 0,
  playoutDelayMs: 0,
  targetDelayMs: 0,
  lowLatency: false,
  concealedFrames: 0,
  stretchedFrames: 0,
  fecRecoveredFrames: 0,
  remoteLossRate: 0,
  rtpAgoMs: null,
  connectedForMs: 60_000,
});

test('a newcomer calls every listed member the mesh carries for it, and keeps the others on its roll uncalled', () => {
  const c = callsAs('b', { janusOnly: ['d'] });
  c.calls.onPresence([presence('a', ['main']), presence('c', ['main'], ['main']), presence('d', ['stage'])], true);
  assert.deepEqual(c.ops('addPeer', 'offer'), ['addPeer a', 'offer a', 'addPeer c', 'offer c']);
  assert.deepEqual(
    c.calls.called().map((p) => p.stationId),
    ['a', 'c'],
  );
  assert.deepEqual(
    c.calls.everyone().map((p) => p.stationId),
    ['a', 'c', 'd'],
    'the member heard through Janus alone is known, not called',
  );
  assert.equal(c.calls.listed('d')?.name, 'D');
  assert.equal(c.calls.presence('d'), undefined);
});

test('glare: of two offers that cross, the higher id drops its own and answers; the lower id keeps its own', async () => {
  const higher = callsAs('b');
  higher.calls.onPresence([presence('a', ['main'])], true);
  await higher.calls.onOffer('a', 'v=0 a');
  assert.deepEqual(higher.ops('addPeer', 'offer', 'dropPeer', 'acceptOffer'), ['addPeer a', 'offer a', 'dropPeer a', 'addPeer a', 'acceptOffer a']);
  assert.equal((higher.media.find((m) => m.op === 'dropPeer') as { why: string }).why, 'glare');
  assert.deepEqual(higher.dropped, ['a'], 'what the station keeps about a (its private talk) goes with the old call');

  const lower = callsAs('a');
  lower.calls.onPresence([presence('b', ['main'])], true);
  await lower.calls.onOffer('b', 'v=0 b');
  assert.deepEqual(lower.ops('addPeer', 'offer', 'dropPeer', 'acceptOffer'), ['addPeer b', 'offer b'], 'the crossing offer is ignored');
  lower.calls.onAnswer('b', 'v=0 answer');
  assert.deepEqual(lower.ops('acceptAnswer'), ['acceptAnswer b']);
});

test('a live call outlasts a presence list without its remote; a hang-up ends it, and routing follows each change', async () => {
  const c = callsAs('a');
  c.calls.onPresence([presence('b', ['main'])], false);
  assert.deepEqual(c.ops('addPeer', 'offer'), ['addPeer b'], 'the higher id waits for the newcomer to offer');
  await c.calls.onOffer('b', 'v=0 b');
  c.calls.onConnection('b', 'connected');
  c.calls.onPresence([], false);
  assert.ok(c.calls.has('b'), 'a server restart does not end a live call');
  assert.deepEqual(c.log, ['[peer b] left signalling; its call stays up (connected)']);
  c.calls.onPresence([presence('b', ['main'])], false);
  assert.deepEqual(c.ops('addPeer', 'offer', 'dropPeer'), ['addPeer b'], 'back in presence: the same call, nothing set up anew');
  c.changes.length = 0;
  c.calls.onBye('b', true);
  await tick();
  assert.equal(c.calls.has('b'), false);
  assert.deepEqual(c.changes, [true], 'routing is pushed and the state published once');
  assert.deepEqual(c.dropped, ['b']);
});

test('a failed call: the lower id offers a fresh one at once; the higher id waits, then offers when none came', async () => {
  const lower = callsAs('a');
  lower.calls.onPresence([presence('b', ['main'])], true);
  lower.calls.onConnection('b', 'failed');
  await tick();
  assert.deepEqual(lower.ops('addPeer', 'offer', 'dropPeer'), ['addPeer b', 'offer b', 'dropPeer b', 'addPeer b', 'offer b']);

  const higher = callsAs('b', { reofferWaitMs: 30 });
  higher.calls.onPresence([presence('a', ['main'])], false);
  await higher.calls.onOffer('a', 'v=0 a');
  higher.calls.onConnection('a', 'failed');
  await tick();
  assert.deepEqual(higher.ops('addPeer', 'offer', 'dropPeer'), ['addPeer a', 'dropPeer a', 'addPeer a'], 'the higher id waits for the re-offer');
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(higher.ops('offer'), ['offer a'], 'no offer came: it offers itself');
  assert.ok(higher.log.includes('[peer a] no offer came in 30 ms; offering'));
});

test('a talker gone silent while the server has not answered since is held and the server probed, not set up anew', async () => {
  const realNow = performance.now;
  let now = 1000;
  performance.now = () => now;
  try {
    const c = callsAs('a');
    c.calls.onPresence([presence('b', ['main'], ['main'])], true);
    c.calls.onConnection('b', 'connected');
    c.world.heard = false;
    now += 2500;
    c.calls.watch([{ ...health('b', 'connected'), rtpAgoMs: 2500 }]);
    assert.deepEqual(c.ops('markRtp'), ['markRtp b'], 'a talker with no RTP is marked silent on the media side');
    now += 10_001;
    c.calls.watch([{ ...health('b', 'no-rtp'), rtpAgoMs: 12_501 }]);
    await tick();
    assert.equal(c.world.probes, 1, 'the server is asked whether our link is up');
    assert.ok(c.log.includes('[peer b] silent: hold'), c.log.join('\n'));
    assert.deepEqual(c.ops('dropPeer'), [], 'the call is kept');
    c.world.heard = true;
    now += 10_001;
    c.calls.watch([{ ...health('b', 'no-rtp'), rtpAgoMs: 22_502 }]);
    await tick();
    assert.deepEqual(c.ops('dropPeer', 'addPeer', 'offer'), ['addPeer b', 'offer b', 'dropPeer b', 'addPeer b', 'offer b'], 'once the server answered, the lower id offers a fresh call');
  } finally {
    performance.now = realNow;
  }
});
