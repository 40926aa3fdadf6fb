// electron/engine/control/direct-talk.ts: whom private talk needs a call with, and for how long after it ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECT_CALL_LINGER_MS, DirectTalk } from '../electron/engine/control/direct-talk';

test('private talk needs a call while it goes on either way, and for a linger after it ends', () => {
  let now = 1000;
  const direct = new DirectTalk(() => now);
  const b = { stationId: 'B', name: 'B' };
  const c = { stationId: 'C', name: 'C' };
  assert.equal(direct.needsCall('B'), false, 'nobody talks privately yet');
  direct.setTalk(b, true);
  direct.heard(c, true);
  assert.deepEqual([direct.needsCall('B'), direct.needsCall('C')], [true, true], 'we talk to B; C talks to us');
  now += 10 * DIRECT_CALL_LINGER_MS;
  assert.deepEqual([direct.needsCall('B'), direct.needsCall('C')], [true, true], 'however long the talk lasts');
  direct.setTalk(b, false);
  direct.heard(c, false);
  now += DIRECT_CALL_LINGER_MS - 1;
  assert.deepEqual(
    [direct.needsCall('B'), direct.needsCall('C')],
    [true, true],
    'a reply soon after finds the call still there',
  );
  now += 2;
  assert.deepEqual(
    [direct.needsCall('B'), direct.needsCall('C')],
    [false, false],
    'unused for the linger, the call may end',
  );
  direct.heard(b, true);
  direct.forget('B');
  assert.equal(direct.needsCall('B'), false, 'a station gone needs no call');
  direct.setTalk(c, false);
  assert.equal(direct.needsCall('C'), false, 'ending talk that never began starts no linger');
});

test('a station talking to us alone plays at full gain, and our microphone goes to our targets', () => {
  const direct = new DirectTalk(() => 0);
  direct.setTalk({ stationId: 'B', name: 'B' }, true);
  direct.heard({ stationId: 'C', name: 'C' }, true);
  const routing = direct.routing({ sendTo: ['D'], gains: { C: 0.2, D: 0.5 } });
  assert.deepEqual(routing, { sendTo: ['D', 'B'], gains: { C: 1, D: 0.5 } });
});
