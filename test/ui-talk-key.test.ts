// The talk-key gesture rule on its own: tap latches, hold past the threshold is momentary, a press unlatches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pressTalk, releaseTalk } from '../electron/common/talk-key';

test('a tap shorter than the threshold latches talk on', () => {
  const { talk, gesture } = pressTalk(false, 1000);
  assert.equal(talk, true);
  assert.equal(releaseTalk(gesture, 1000 + 299, 300), null);
});

test('a hold reaching the threshold is momentary: release turns talk off', () => {
  const { gesture } = pressTalk(false, 1000);
  assert.equal(releaseTalk(gesture, 1000 + 300, 300), false);
  assert.equal(releaseTalk(gesture, 1000 + 5000, 300), false);
});

test('pressing a latched key turns talk off at once, and its release changes nothing', () => {
  const { talk, gesture } = pressTalk(true, 1000);
  assert.equal(talk, false);
  assert.equal(releaseTalk(gesture, 1010, 300), null);
  assert.equal(releaseTalk(gesture, 9000, 300), null);
});
