// The control endpoint given on a command line: the desktop app's switches follow the station CLI's rule, and a
// refusal names the flag (the token's value is a secret and never shown).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStationArgs } from '../electron/cli/station-args';
import { ArgError, givenControlEndpoint } from '../electron/control/control-flags';

function refusal(run: () => unknown): ArgError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof ArgError, `an ArgError, not ${String(e)}`);
    return e;
  }
  assert.fail('accepted');
}

test('a given port and token are read as numbers and text; absent or port 0 is not given', () => {
  assert.deepEqual(givenControlEndpoint({ 'control-port': '9000', 'control-token': 'a-token-of-16-chars' }), {
    port: 9000,
    token: 'a-token-of-16-chars',
  });
  assert.deepEqual(givenControlEndpoint({}), {});
  assert.deepEqual(givenControlEndpoint({ 'control-port': '0' }), {}, 'port 0 leaves the remembered one');
});

test('a bad port or a short token is refused naming the flag, with the same words as the station CLI', () => {
  for (const [flag, value] of [
    ['control-port', '70000'],
    ['control-port', 'abc'],
    ['control-token', 'short-secret'],
  ] as const) {
    const desktop = refusal(() => givenControlEndpoint({ [flag]: value }));
    const cli = refusal(() => parseStationArgs([`--${flag}`, value]));
    assert.equal(desktop.flag, flag);
    assert.ok(desktop.message.startsWith(`--${flag}:`), desktop.message);
    assert.equal(desktop.message, cli.message, 'one rule, one wording');
  }
  assert.equal(
    refusal(() => givenControlEndpoint({ 'control-port': '70000' })).message,
    '--control-port: "70000" is not a port (0-65535)',
  );
  const token = refusal(() => givenControlEndpoint({ 'control-token': 'short-secret' }));
  assert.equal(token.message, '--control-token: must be at least 16 characters');
  assert.ok(!token.message.includes('short-secret'), 'the token is not repeated');
});
