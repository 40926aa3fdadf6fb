// What the panel's Health shows of each remote, from the media side's per-peer figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { janusFeedStation, metersByStation, peerHealth } from '../electron/engine/control/health-report';
import type { PeerMediaHealth } from '../electron/engine/media/media-protocol';
import type { Presence } from '../electron/common/signalling-protocol';

const h = (id: string, jitterMs: number): PeerMediaHealth => ({
  id,
  connection: 'connected',
  rttMs: 3,
  rtpAgoMs: 5,
  connectedForMs: 1000,
  jitterMs,
  lossRate: 0,
  playoutDelayMs: 20,
  targetDelayMs: 20,
  lowLatency: true,
  concealedFrames: 0,
  stretchedFrames: 0,
  fecRecoveredFrames: 0,
  remoteLossRate: null,
});
const p = (stationId: string, name: string): Presence => ({ stationId, name, kind: 'station', lines: ['main'], talking: [] });

test('a member heard through Janus reports as itself; a feed nobody names is left out', () => {
  assert.equal(janusFeedStation('janus:stage:c'), 'c');
  assert.equal(janusFeedStation('b'), undefined);
  const asked: string[] = [];
  const known = new Map([
    ['b', p('b', 'Bea')],
    ['c', p('c', 'Cy')],
  ]);
  const report = peerHealth([h('b', 1), h('janus:stage:c', 2), h('janus:stage:x', 3)], (id, viaJanus) => {
    asked.push(`${id}${viaJanus ? ' via Janus' : ''}`);
    return known.get(id);
  });
  assert.deepEqual(asked, ['b', 'c via Janus', 'x via Janus']);
  assert.deepEqual(
    report.map((r) => [r.stationId, r.name, r.jitterMs]),
    [
      ['b', 'Bea', 1],
      ['c', 'Cy', 2],
    ],
  );
  assert.equal('speaking' in report[0]!, false, 'what the media side did not measure is absent, not undefined');
});

test('meters: a station heard both on the mesh and through Janus shows the louder of the two', () => {
  const m = (peakDb: number) => ({ rmsDb: peakDb - 3, peakDb });
  assert.deepEqual(metersByStation({ b: m(-20), 'janus:stage:b': m(-10), 'janus:stage:c': m(-30), c: m(-40) }), { b: m(-10), c: m(-30) });
});
