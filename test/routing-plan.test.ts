// What the panel's keys ask of the mixer (electron/engine/control/routing-plan.ts), without a Station: line keys,
// private talk, the mic mute and Janus lines together, and each change sent once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routingPlan, SendOnChange } from '../electron/engine/control/routing-plan';
import { LineKeys } from '../electron/engine/control/line-keys';
import { MasterSection } from '../electron/engine/control/master-section';
import { DirectTalk } from '../electron/engine/control/direct-talk';
import { StationLineCarriers } from '../electron/engine/janus/line-carriers';
import type { Presence } from '../electron/common/signalling-protocol';

const p = (stationId: string, lines: string[], talking: string[] = []): Presence => ({ stationId, name: stationId.toUpperCase(), kind: 'station', lines, talking });

function panel() {
  const keys = new LineKeys();
  keys.reset(['main', 'tech', 'stage']);
  return { keys, master: new MasterSection(), direct: new DirectTalk() };
}

test('our microphone goes to the members of the lines we talk on and to a private target; each remote plays at its loudest listened line', () => {
  const k = panel();
  const carriers = new StationLineCarriers();
  k.keys.get('main').talk = true;
  k.keys.get('tech').volume = 0.5;
  k.direct.setTalk({ stationId: 'd', name: 'D' }, true);
  const called = [p('b', ['main'], ['main']), p('c', ['tech'], ['tech']), p('d', ['stage'])];
  const plan = routingPlan(k, carriers, called, called);
  assert.deepEqual(plan.routing, { sendTo: ['b', 'd'], gains: { b: 1, c: 0.5, d: 0 } });
  assert.deepEqual(plan.lineMix, { main: { b: 1 }, tech: { c: 0.5 }, stage: {} });

  k.master.micMuted = true;
  assert.deepEqual(routingPlan(k, carriers, called, called).routing.sendTo, [], 'muted: the microphone goes to nobody');
  assert.deepEqual(routingPlan(k, carriers, called, called).routing.gains, { b: 1, c: 0.5, d: 0 }, 'what we hear is untouched');
});

test('a Janus line: its members are heard as their feeds and our microphone goes to its room; the mesh keeps the other lines', () => {
  const k = panel();
  const carriers = new StationLineCarriers();
  carriers.apply({ type: 'line-carrier', line: 'stage', carrier: 'janus', janus: { url: 'ws://10.0.0.1:8188', room: 7 } });
  k.keys.get('stage').talk = true;
  const called = [p('b', ['main', 'stage'], ['stage'])];
  const roll = [...called, p('e', ['stage'], ['stage'])];
  const plan = routingPlan(k, carriers, called, roll);
  assert.deepEqual(plan.routing, { sendTo: ['janus:stage'], gains: { b: 0, 'janus:stage:b': 1, 'janus:stage:e': 1 } });
  assert.deepEqual(plan.lineMix.stage, { 'janus:stage:b': 1, 'janus:stage:e': 1 });
});

test('a change goes out once, as a copy; the same plan again sends nothing', () => {
  const sent: { gains: Record<string, number> }[] = [];
  const out = new SendOnChange<{ gains: Record<string, number> }>((v) => sent.push(v));
  const plan = { gains: { b: 1 } };
  out.offer(plan);
  out.offer({ gains: { b: 1 } });
  assert.equal(sent.length, 1);
  plan.gains.b = 0;
  assert.equal(sent[0]?.gains.b, 1, 'what was sent is not changed by the caller afterwards');
  out.offer(plan);
  assert.deepEqual(sent.at(-1), { gains: { b: 0 } });
});
