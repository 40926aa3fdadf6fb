// The station CLI's flags: every value is checked, and a refusal names the flag at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStationArgs } from '../electron/cli/station-args';
import { ArgError } from '../electron/control/control-flags';

function refusal(argv: string[]): ArgError {
  try {
    parseStationArgs(argv);
  } catch (e) {
    assert.ok(e instanceof ArgError, `an ArgError, not ${String(e)}`);
    return e;
  }
  assert.fail(`accepted ${argv.join(' ')}`);
}

test('a full command line reads into typed values', () => {
  const args = parseStationArgs([
    '--name',
    'Stage Left',
    '--host',
    '--port',
    '8080',
    '--line',
    'main:s3cret',
    '--line',
    'tech',
    '--talk',
    'main',
    '--frame-ms',
    '20',
    '--chunk-ms',
    '5',
    '--bitrate',
    '24000',
    '--opus-application',
    'voip',
    '--priority',
    'normal',
    '--turn',
    'turn:10.0.0.1,crew,pw',
    '--stun',
    'stun:10.0.0.1',
    '--ui',
    '--ui-port',
    '0',
    '--meters-every',
    '0',
  ]);
  assert.equal(args.name, 'Stage Left');
  assert.equal(args.host, true);
  assert.equal(args.port, 8080);
  assert.deepEqual(args.line, [{ line: 'main', secret: 's3cret' }, { line: 'tech' }]);
  assert.deepEqual(args.talk, ['main']);
  assert.equal(args['frame-ms'], 20);
  assert.equal(args['chunk-ms'], 5);
  assert.equal(args.bitrate, 24000);
  assert.equal(args['opus-application'], 'voip');
  assert.equal(args.priority, 'normal');
  assert.deepEqual(args.turn, [{ urls: 'turn:10.0.0.1', username: 'crew', credential: 'pw' }]);
  assert.deepEqual(args.stun, ['stun:10.0.0.1']);
  assert.equal(args['ui-port'], 0);
  assert.equal(args['meters-every'], 0);
});

test('an unknown flag, a missing value and a stray argument are refused naming the flag', () => {
  assert.equal(refusal(['--nmae', 'A']).flag, 'nmae');
  assert.equal(refusal(['--name']).flag, 'name');
  assert.equal(refusal(['--name', '--host']).flag, 'name');
  assert.equal(refusal(['--host=yes']).flag, 'host');
  assert.match(refusal(['stray']).message, /stray/);
});

test('a bad value is refused naming the flag, the value and what it takes', () => {
  const cases: [string[], string, RegExp][] = [
    [['--frame-ms', '7'], 'frame-ms', /--frame-ms: "7" is not one of 5, 10, 20/],
    [['--chunk-ms', '20'], 'chunk-ms', /--chunk-ms: "20" is not one of 5, 10/],
    [['--port', '80a'], 'port', /--port: "80a" is not a whole number/],
    [['--ui-port=-1'], 'ui-port', /--ui-port: "-1" is not a whole number/],
    [['--bitrate', 'fast'], 'bitrate', /--bitrate: "fast" is not a whole number/],
    [['--meters-every', '1.5'], 'meters-every', /--meters-every: "1.5" is not a whole number/],
    [['--opus-application', 'music'], 'opus-application', /--opus-application: "music" is not one of audio, voip/],
    [['--priority', 'high'], 'priority', /--priority: "high" is not one of raised, normal/],
    [['--turn', 'turn:x,crew,pw', '--turn', 'turn:y,crew'], 'turn', /--turn: "turn:y,crew" must be URL,USER,PASS/],
    [['--control-port', '70000'], 'control-port', /--control-port: "70000" is not a port \(0-65535\)/],
    [['--ui-port', '65536'], 'ui-port', /--ui-port: "65536" is not a port \(0-65535\)/],
    [['--control-port', '0', '--ui-port', '0'], 'control-port', /--control-port and --ui-port are the same option/],
    [['--lan-discovery', 'yes'], 'lan-discovery', /--lan-discovery: "yes" is not one of on, off/],
  ];
  for (const [argv, flag, message] of cases) {
    const e = refusal(argv);
    assert.equal(e.flag, flag, argv.join(' '));
    assert.match(e.message, message);
  }
});

test('the control endpoint, LAN discovery and --insecure read as given', () => {
  const args = parseStationArgs([
    '--server',
    'ws://10.0.0.2:8420',
    '--insecure',
    '--control-port',
    '9000',
    '--control-token',
    'a-token-of-16-chars',
    '--lan-discovery',
    'off',
  ]);
  assert.equal(args.insecure, true);
  assert.equal(args['control-port'], 9000);
  assert.equal(args['control-token'], 'a-token-of-16-chars');
  assert.equal(args['lan-discovery'], 'off');
  assert.equal(parseStationArgs(['--ui-port', '9001'])['ui-port'], 9001);
});

test('a short --control-token is refused naming the flag, without repeating the secret', () => {
  const e = refusal(['--control-token', 'short-secret']);
  assert.equal(e.flag, 'control-token');
  assert.equal(e.message, '--control-token: must be at least 16 characters');
});
