// Station ids from names (electron/common/station-id.ts, as the engine uses it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stationIdFrom } from '../electron/engine/station';
import { slugStationId } from '../electron/common/station-id';

test('station ids derive from names within the protocol alphabet', () => {
  assert.equal(stationIdFrom('Stage Left'), 'Stage-Left');
  assert.equal(stationIdFrom('A'), 'A');
  assert.match(stationIdFrom('!!!'), /^station-[a-z0-9]+$/);
});

test('a guest id keeps to the same alphabet and length', () => {
  assert.equal(slugStationId('Guest of FOH / Stage', 40), 'Guest-of-FOH-Stage');
  assert.equal(slugStationId('x'.repeat(60), 40).length, 40);
  assert.equal(slugStationId('***'), '');
});
