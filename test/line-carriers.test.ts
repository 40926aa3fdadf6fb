// How the control side sees each line travel (electron/engine/janus/line-carriers.ts): the server's word on mesh or
// Janus, which members still need a mesh call, our room on each Janus line, and what the panel shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StationLineCarriers } from '../electron/engine/janus/line-carriers';
import { LineKeys } from '../electron/engine/control/line-keys';
import type { Presence } from '../electron/common/signalling-protocol';
import type { Routing } from '../electron/engine/media/media-protocol';

const p = (stationId: string, lines: string[], talking: string[] = []): Presence => ({ stationId, name: stationId, kind: 'station', lines, talking });
const janus = { url: 'ws://10.0.0.1:8188', room: 1234 };

test('a line moved to Janus: only members sharing a mesh line still need a call, and they see only mesh lines', () => {
  const c = new StationLineCarriers();
  assert.equal(c.apply({ type: 'line-carrier', line: 'stage', carrier: 'janus', janus }), true);
  assert.equal(c.apply({ type: 'line-carrier', line: 'stage', carrier: 'janus', janus }), false, 'the same word again changes nothing');
  assert.deepEqual(c.janusLines(), ['stage']);
  assert.equal(c.needsMesh(p('b', ['stage'])), false);
  assert.deepEqual(c.meshView(p('c', ['main', 'stage'], ['stage'])), p('c', ['main'], []));
  c.forget(['main']);
  assert.deepEqual(c.janusLines(), [], 'a line we left is forgotten');
});

test('our room on a Janus line: joining, its reports, a failure shown with its reason, and leaving', () => {
  const c = new StationLineCarriers();
  c.apply({ type: 'line-carrier', line: 'stage', carrier: 'janus', janus });
  assert.deepEqual(c.state('main'), { kind: 'mesh' });
  c.joiningRoom('stage', janus.url);
  assert.deepEqual(c.state('stage'), { kind: 'janus', janus: 'connecting' });
  assert.equal(c.roomReport('stage', 'failed', 'no answer in 5 s'), true);
  assert.deepEqual(c.state('stage'), { kind: 'janus', janus: 'failed', error: 'no answer in 5 s' });
  assert.equal(c.roomReport('stage', 'closed', ''), false, 'a room we closed is no news');
  assert.equal(c.roomReport('main', 'connected', ''), false, 'nor a report about a line the mesh carries');
  assert.equal(c.leaveRoom('stage'), true, 'we were in it: the media side must leave');
  assert.equal(c.leaveRoom('stage'), false);
  c.apply({ type: 'line-carrier', line: 'stage', carrier: 'mesh', janusError: 'Janus unreachable' });
  assert.deepEqual(c.state('stage'), { kind: 'mesh', error: 'Janus unreachable' });
});

test('routing on a Janus line: our microphone to its room while we talk, each talking member at the line volume while we listen', () => {
  const c = new StationLineCarriers();
  c.apply({ type: 'line-carrier', line: 'stage', carrier: 'janus', janus });
  const keys = new LineKeys();
  keys.reset(['main', 'stage']);
  keys.get('stage').talk = true;
  keys.get('stage').volume = 0.5;
  const routing: Routing = { sendTo: [], gains: {} };
  const mix: Record<string, Record<string, number>> = {};
  c.addJanus(routing, mix, keys, [p('b', ['stage'], ['stage']), p('c', ['stage']), p('d', ['main'], ['main'])]);
  assert.deepEqual(routing, { sendTo: ['janus:stage'], gains: { 'janus:stage:b': 0.5, 'janus:stage:c': 0 } });
  assert.deepEqual(mix, { stage: { 'janus:stage:b': 0.5 } });
  keys.get('stage').listen = false;
  const muted: Routing = { sendTo: [], gains: {} };
  c.addJanus(muted, {}, keys, [p('b', ['stage'], ['stage'])]);
  assert.deepEqual(muted.gains, { 'janus:stage:b': 0 }, 'not listening: the feed is silent');
});
