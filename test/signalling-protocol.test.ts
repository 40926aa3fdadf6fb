import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  MAX_MESSAGE_BYTES,
  MAX_SDP_CHARS,
  parseClientMessage,
  parseServerMessage,
  signallingJsonSchemas,
} from '../electron/common/signalling-protocol';
import { LineName } from '../electron/common/contract';

test('the JSON Schema pasted in docs/signalling.md is the one the code generates', async () => {
  const doc = await readFile(path.join(__dirname, '..', 'docs', 'signalling.md'), 'utf8');
  const block = /<!-- json-schema:begin -->\s*```json\n([\s\S]*?)```\s*<!-- json-schema:end -->/.exec(doc);
  assert.ok(block?.[1], 'docs/signalling.md has a json-schema block');
  assert.deepEqual(JSON.parse(block[1]), JSON.parse(JSON.stringify(signallingJsonSchemas())), 'regenerate with: npm run signal -- --json-schema');
});

test('the size limit counts UTF-8 bytes, and a maximal SDP fits', () => {
  const sdpLines = Math.floor(MAX_SDP_CHARS / 32);
  const maximalSdp = 'a=candidate:1 1 udp 2122 host\r\n'.repeat(sdpLines).padEnd(MAX_SDP_CHARS, 'x');
  const maximal = parseClientMessage(JSON.stringify({ type: 'offer', to: 'peer', sdp: maximalSdp }));
  assert.equal(maximal.ok, true);

  // 40000 three-byte characters are 120000 bytes: over the limit although the string is short.
  const wide = JSON.stringify({ type: 'join', stationId: 'a', name: '€'.repeat(40_000), kind: 'station', lines: [], protocol: 1 });
  assert.ok(wide.length < MAX_MESSAGE_BYTES);
  const result = parseClientMessage(wide);
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.error.code, 'too-large');

  const longSdp = parseClientMessage(JSON.stringify({ type: 'answer', to: 'peer', sdp: 'x'.repeat(MAX_SDP_CHARS + 1) }));
  assert.deepEqual(!longSdp.ok && [longSdp.error.code, longSdp.error.field], ['invalid', 'sdp']);
});

test('client messages: schema problems name the field, extra keys are dropped', () => {
  const cases: [unknown, string, string | undefined][] = [
    [{ type: 'join', stationId: 'a', name: '', kind: 'station', lines: [], protocol: 1 }, 'invalid', 'name'],
    [{ type: 'join', stationId: 'a', name: 'A', kind: 'robot', lines: [], protocol: 1 }, 'invalid', 'kind'],
    [{ type: 'join', stationId: 'a', name: 'A', kind: 'station', lines: Array.from({ length: 33 }, (_, i) => ({ line: `l${i}` })), protocol: 1 }, 'invalid', 'lines'],
    [{ type: 'join', stationId: 'a', name: 'A', kind: 'station', lines: [{ line: 'm' }, { line: 'm' }], protocol: 1 }, 'invalid', 'lines.1.line'],
    [{ type: 'join', stationId: 'a', name: 'A', kind: 'station', lines: [] }, 'invalid', 'protocol'],
    [{ type: 'candidate', to: 'b', candidate: { candidate: 'c', sdpMLineIndex: 1.5 } }, 'invalid', 'candidate.sdpMLineIndex'],
    [{ type: 'ping' }, 'invalid', 't'],
    [{ to: 'b' }, 'invalid', 'type'],
    [{ type: 'hello' }, 'unknown-type', 'type'],
    [null, 'malformed', undefined],
  ];
  for (const [msg, code, field] of cases) {
    const result = parseClientMessage(JSON.stringify(msg));
    assert.equal(result.ok, false, JSON.stringify(msg));
    if (!result.ok) assert.deepEqual([result.error.code, result.error.field], [code, field], JSON.stringify(msg));
  }
  const bye = parseClientMessage('{"type":"bye","from":"forged","extra":1}');
  assert.deepEqual(bye, { ok: true, msg: { type: 'bye' } });
});

test('server messages parse, and bad ones are named', () => {
  const presence = { type: 'presence', peers: [{ stationId: 'a', name: 'A', kind: 'browser', lines: ['main'], talking: ['main'] }] };
  assert.deepEqual(parseServerMessage(JSON.stringify(presence)), { ok: true, msg: presence });
  const error = parseServerMessage('{"type":"error","code":"teapot","message":"?"}');
  assert.deepEqual(!error.ok && [error.error.code, error.error.field], ['invalid', 'code']);
  const relayed = parseServerMessage('{"type":"offer","to":"b","sdp":"v=0"}');
  assert.deepEqual(!relayed.ok && [relayed.error.code, relayed.error.field], ['invalid', 'from']);
});

test('one rule for line names: the control contract and the protocol accept and refuse the same names', () => {
  const accepted = ['main', 'Stage Left', 'Cam 2.A', 'a', 'x'.repeat(64), 'tech_1-b'];
  const refused = ['', ' main', 'main ', 'Stage/Left', 'x'.repeat(65), 'a:b', 'é', '-lead'];
  for (const name of [...accepted, ...refused]) {
    const contract = LineName.safeParse(name).success;
    const join = parseClientMessage(JSON.stringify({ type: 'join', stationId: 'a', name: 'A', kind: 'station', lines: [{ line: name }], protocol: 1 }));
    assert.equal(join.ok, contract, `contract and protocol agree on ${JSON.stringify(name)}`);
    assert.equal(contract, accepted.includes(name), JSON.stringify(name));
    if (!join.ok) {
      assert.equal(join.error.field, 'lines.0.line');
      assert.match(join.error.message, /line name/);
    }
  }
  const talk = parseClientMessage(JSON.stringify({ type: 'talk', lines: ['Stage Left'] }));
  assert.equal(talk.ok, true);
});
