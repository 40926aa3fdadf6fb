// Stations over wss: the default hosting is TLS with a certificate kept in the data folder, a joining station pins
// it on first use and the call carries audio; a host that comes back with another certificate is refused, naming
// the host and both fingerprints, until the operator re-trusts it by giving the new fingerprint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { dominantFrequency, rmsDb, tone } from '../testkit/signal';

let pulse: PulseHarness;
const scratch = mkdtempSync(path.join(tmpdir(), 'partyline-tls-station-'));
before(async () => {
  pulse = await PulseHarness.start(['a', 'b']);
});
after(async () => {
  await pulse?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function host(dataDir: string, port = '0'): StationProcess {
  const d = pulse.devices('a');
  return new StationProcess(['--name', 'A', '--host', '--port', port, '--line', 'main:s3cret', '--input', d.inputId, '--output', d.outputId, '--talk', 'main', '--data-dir', dataDir, '--meters-every', '0'], pulse.env);
}

function joiner(url: string, dataDir: string, extra: string[] = []): StationProcess {
  const d = pulse.devices('b');
  return new StationProcess(['--name', 'B', '--server', url, '--line', 'main:s3cret', '--input', d.inputId, '--output', d.outputId, '--data-dir', dataDir, '--meters-every', '0', ...extra], pulse.env);
}

test('a call over wss: pinned on first use, audio heard; a changed certificate is refused until re-trusted', async () => {
  const hostData = path.join(scratch, 'host');
  const joinerData = path.join(scratch, 'joiner');
  const a = host(hostData);
  let port: string;
  let original: string;
  try {
    const url = (await a.waitFor(/hosting (wss:\/\/\S+)/))[1] as string;
    port = new URL(url).port;
    original = (await a.waitFor(/TLS certificate SHA-256 (\S+)/))[1] as string;
    const b = joiner(url, joinerData);
    try {
      await b.waitFor(new RegExp(`trusting 127\\.0\\.0\\.1:${port} on first use: certificate SHA-256 ${original}`));
      await b.waitFor(/\[peer A\] connected/);
      const recording = pulse.record(pulse.devices('b').speakerMonitor);
      await sleep(300);
      const toB = pulse.inject(pulse.devices('a').micSink, tone(440, 7, -12));
      await sleep(5_500);
      const heard = await recording.stop();
      toB.stop();
      const from = 48000 * 2;
      const to = from + 48000 * 3;
      assert.ok(heard.length >= to, `recorded ${heard.length} samples`);
      const f = dominantFrequency(heard, 100, 4000, from, to);
      assert.ok(Math.abs(f - 440) <= 2, `B hears ${f} Hz over wss`);
      assert.ok(Math.abs(rmsDb(heard, from, to) + 15.05) <= 3, `level at B ${rmsDb(heard, from, to).toFixed(2)} dBFS`);
    } finally {
      assert.equal(await b.stop(), '0');
    }
  } finally {
    assert.equal(await a.stop(), '0');
  }

  // The host comes back at the same address with another certificate (its data folder was replaced).
  const a2 = host(path.join(scratch, 'host-replaced'), port);
  try {
    const url = (await a2.waitFor(/hosting (wss:\/\/\S+)/))[1] as string;
    const replaced = (await a2.waitFor(/TLS certificate SHA-256 (\S+)/))[1] as string;
    assert.notEqual(replaced, original);
    const refused = joiner(url, joinerData);
    try {
      const line = (await refused.waitFor(/\[signal\] refused: (.*)/))[1] as string;
      assert.ok(line.includes(`127.0.0.1:${port}`), `names the host: ${line}`);
      assert.ok(line.includes(replaced) && line.includes(original), `names both fingerprints: ${line}`);
      await sleep(500);
      assert.ok(!a2.lines.some((l) => /\[peer B\]/.test(l)), 'the host never heard of B');
    } finally {
      await refused.stop();
    }
    const retrusted = joiner(url, joinerData, ['--fingerprint', replaced]);
    try {
      await retrusted.waitFor(/\[peer A\] connected/);
    } finally {
      await retrusted.stop();
    }
  } finally {
    await a2.stop();
  }
});
