// The concealment line a station logs for each remote: what it concealed, and whether the path or our speaker did it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcealmentReport } from '../electron/engine/media/concealment-report';
import { PlayoutBuffer } from '../electron/engine/playout/playout-buffer';
import { makeTrace, opusDecoder, runTrace, type PacketEvent } from '../testkit/playout-traces';

function run(edit: (events: PacketEvent[]) => PacketEvent[]) {
  const buffer = new PlayoutBuffer({ createDecoder: opusDecoder });
  const events = edit(makeTrace({ signal: 'tone', frameMs: 10, durationMs: 15000 }, { baseDelayMs: 3, jitterMs: 0.5 }, 5));
  const trace = runTrace(buffer, events.sort((a, b) => a.arrivalMs - b.arrivalMs), 15000, false);
  const at = (ms: number) => trace.pulls.find((p) => p.nowMs === ms)!.stats;
  return { at, gapMs: buffer.takeLongestArrivalGapMs() };
}

test("a step in the path's delay: one late packet played after what stood in for it, and how long packets were apart", () => {
  const { at, gapMs } = run((events) => events.map((e) => (e.sentMs >= 10000 ? { ...e, arrivalMs: e.arrivalMs + 30 } : e)));
  const report = new ConcealmentReport();
  assert.equal(report.take('A', at(9000), 0), undefined, 'the first call sets where counting starts');
  assert.equal(report.take('A', at(9900), 0), undefined, 'nothing concealed, nothing said');
  const line = report.take('A', at(12000), gapMs);
  assert.match(line ?? '', /^A: concealed (2\d|3\d)\.\d ms in \d frame\(s\): 0 lost on the way, 0 landed late and dropped, 1 landed late and played after it, 0 early pull\(s\) by our speaker; packets came at most (3\d|4\d)\.\d ms apart$/);
});

test('a burst lost on the way is counted as lost, and a forgotten remote starts over', () => {
  const { at } = run((events) => events.filter((e) => e.sentMs < 10000 || e.sentMs >= 10050));
  const report = new ConcealmentReport();
  report.take('B', at(9000), 0);
  assert.match(report.take('B', at(12000), 0) ?? '', /^B: concealed \d+\.\d ms in \d+ frame\(s\): 5 lost on the way, 0 landed late and dropped, 0 landed late and played after it, 0 early pull\(s\) by our speaker$/);
  report.forget('B');
  assert.equal(report.take('B', at(14000), 0), undefined);
});
