// Janus over wss:// with a self-signed certificate, as a crew runs it on a show LAN with no public CA: the signalling
// server and the stations trust exactly the pinned SHA-256; a wrong pin or an untrusted certificate leaves the line
// on the mesh with an error naming the setting and what Janus presented; a malformed pin is refused at startup.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess, stopStations } from '../testkit/station-process';
import { startJanus, type JanusProcess } from '../testkit/janus';
import { tone, tonePresenceDb } from '../testkit/signal';
import { SignallingServer } from '../electron/signalling/server';
import { SignallingClient } from '../electron/signalling/client';
import { JanusConfigError } from '../electron/signalling/janus/janus-rooms';
import { stationIdentity, type TlsIdentity } from '../electron/signalling/tls-identity';
import { JanusCertificateError, JanusSession } from '../electron/common/janus-client';
import { nodeJanusSocket } from '../electron/net/janus-socket';
import type { LineState } from '../electron/common/contract';
import type { LineCarrierMessage } from '../electron/common/signalling-protocol';

const ROOT = path.join(__dirname, '..');
const TONE = 440;

let pulse: PulseHarness;
let janus: JanusProcess;
/** The certificate Janus serves, and another one (Janus's certificate before it was made anew, say). */
let served: TlsIdentity;
let other: TlsIdentity;
before(async () => {
  [served, other] = await Promise.all([stationIdentity(undefined), stationIdentity(undefined)]);
  pulse = await PulseHarness.start(['a', 'b']);
  janus = await startJanus({ tls: served });
});
after(async () => {
  await pulse?.stop();
  await janus?.stop();
});

function station(name: string, url: string, extra: string[] = []): StationProcess {
  const d = pulse.devices(name.toLowerCase());
  return new StationProcess(
    [
      '--name',
      name,
      '--server',
      url,
      '--insecure',
      '--line',
      'big:s3cret',
      '--input',
      d.serverInputId,
      '--output',
      d.serverOutputId,
      '--ui',
      ...extra,
    ],
    pulse.env,
  );
}

function describe(t: TestContext, stations: StationProcess[]): void {
  for (const s of stations)
    t.diagnostic(
      `${s.label}'s log: ${s.lines
        .filter((l) => /\[(janus|line)[^\]]*\]/.test(l))
        .slice(-20)
        .join(' | ')}`,
    );
  t.diagnostic(`janus log:\n${janus.log().slice(-3000)}`);
}

test('Janus on wss:// with its self-signed certificate pinned: the server makes the room, stations join over wss and carry a tone', async (t) => {
  assert.match(janus.url, /^wss:\/\//);
  const carriers: string[] = [];
  const server = new SignallingServer({
    port: 0,
    lines: { big: 's3cret' },
    janus: { url: janus.url, adminKey: janus.adminKey, fingerprint: served.fingerprint.toLowerCase() },
    janusLines: ['big'],
  });
  server.on('carrier', (l) => carriers.push(l));
  const { url } = await server.start();
  const stations: StationProcess[] = [];
  const injections: { stop(): void }[] = [];
  try {
    const a = station('A', url, ['--talk', 'big']);
    const b = station('B', url);
    stations.push(a, b);
    await b.waitFor(/\[janus big\] first RTP from A/, 20_000);
    injections.push(pulse.inject(pulse.devices('a').micSink, tone(TONE, 8, -12)));
    await sleep(1500);
    const rec = pulse.record(pulse.devices('b').speakerMonitor);
    await sleep(2500);
    const heard = await rec.stop();
    const db = tonePresenceDb(heard, TONE, 4800, heard.length);
    t.diagnostic(`B hears A's ${TONE} Hz through Janus over wss at ${db.toFixed(1)} dB`);
    assert.ok(heard.length > 48000 * 2, "B's recording ran");
    assert.ok(db > -16 && db < -8, `B hears A through Janus over wss (${db.toFixed(1)} dB)`);
    const state = (await b.invoke('station.getState')) as { lines: LineState[] };
    assert.deepEqual(state.lines.find((l) => l.line === 'big')?.carrier, { kind: 'janus', janus: 'connected' });
    assert.equal(server.lineCarrier('big'), 'janus');
    assert.ok(!carriers.some((l) => /janus lost/.test(l)), `the server never lost Janus (${carriers.join(' | ')})`);
  } catch (e) {
    describe(t, stations);
    throw e;
  } finally {
    for (const i of injections) i.stop();
    try {
      await stopStations(stations);
    } finally {
      await server.close();
    }
  }
});

test('a wrong pin, or no pin for a self-signed Janus: the line stays on the mesh, the error names the setting and what Janus presented', async (t) => {
  const carriers: string[] = [];
  const wrongPin = new SignallingServer({
    port: 0,
    lines: { big: 's3cret' },
    janus: { url: janus.url, adminKey: janus.adminKey, fingerprint: other.fingerprint },
    janusLines: ['big'],
  });
  wrongPin.on('carrier', (l) => carriers.push(l));
  const noPin = new SignallingServer({
    port: 0,
    lines: { big: 's3cret' },
    janus: { url: janus.url, adminKey: janus.adminKey },
    janusLines: ['big'],
  });
  const stations: StationProcess[] = [];
  let member: SignallingClient | undefined;
  const presented = served.fingerprint;
  try {
    const a = station('A', (await wrongPin.start()).url);
    stations.push(a);
    const refused = new RegExp(
      `Janus unavailable: janus\\.fingerprint: Janus at wss://127\\.0\\.0\\.1:${janus.port}/ presented certificate SHA-256 ${presented}, not the pinned ${other.fingerprint}`,
    );
    await a.waitFor(new RegExp(`\\[line big\\] carried by mesh \\(${refused.source}`));
    const state = (await a.invoke('station.getState')) as { lines: LineState[] };
    const carrier = state.lines.find((l) => l.line === 'big')?.carrier;
    t.diagnostic(`wrong pin, A's control API: ${carrier?.error}`);
    assert.equal(carrier?.kind, 'mesh');
    assert.match(
      carrier?.error ?? '',
      new RegExp(`^${refused.source}`),
      'the control API says the pin did not match, and what Janus presented',
    );
    assert.equal(wrongPin.lineCarrier('big'), 'mesh');
    assert.ok(
      carriers.some((l) => l.startsWith('janus lost: janus.fingerprint: ')),
      `the server's log says why (${carriers.join(' | ')})`,
    );
    assert.ok(!a.lines.some((l) => /\[janus big\]/.test(l)), 'the station never tried Janus');

    member = new SignallingClient({
      url: (await noPin.start()).url,
      stationId: 'm',
      name: 'm',
      kind: 'station',
      lines: [{ line: 'big', secret: 's3cret' }],
      keepaliveMs: 0,
    });
    const told: LineCarrierMessage[] = [];
    member.on('line-carrier', (m) => told.push(m));
    for (let i = 0; i < 200 && !told.some((m) => /janus\.url/.test(m.janusError ?? '')); i++) await sleep(50);
    const untrusted = told.find((m) => /janus\.url/.test(m.janusError ?? ''));
    t.diagnostic(`no pin, a member is told: ${untrusted?.janusError}`);
    assert.equal(untrusted?.carrier, 'mesh', JSON.stringify(told));
    assert.match(
      untrusted?.janusError ?? '',
      new RegExp(
        `^Janus unavailable: janus\\.url: Janus at wss://127\\.0\\.0\\.1:${janus.port}/ presented a certificate the system does not trust \\(.+\\), SHA-256 ${presented}; .*janus\\.fingerprint`,
      ),
    );
    assert.equal(noPin.lineCarrier('big'), 'mesh');
  } catch (e) {
    describe(t, stations);
    throw e;
  } finally {
    await member?.close();
    try {
      await stopStations(stations);
    } finally {
      await wrongPin.close();
      await noPin.close();
    }
  }
});

test("the station's Janus client trusts exactly the pin it is given, and the system's CAs without one", async () => {
  const refusal = async (fingerprint: string | undefined) => {
    try {
      const session = await JanusSession.connect(
        janus.url,
        nodeJanusSocket,
        fingerprint !== undefined ? { fingerprint } : {},
      );
      await session.close();
      return undefined;
    } catch (e) {
      assert.ok(e instanceof JanusCertificateError, String(e));
      return e;
    }
  };
  assert.equal(await refusal(served.fingerprint), undefined, 'the pinned certificate is trusted, self-signed and all');
  const wrong = await refusal(other.fingerprint);
  assert.equal(wrong?.field, 'janus.fingerprint');
  assert.match(
    wrong?.message ?? '',
    new RegExp(`presented certificate SHA-256 ${served.fingerprint}, not the pinned ${other.fingerprint}`),
  );
  const untrusted = await refusal(undefined);
  assert.equal(untrusted?.field, 'janus.url');
  assert.match(untrusted?.message ?? '', new RegExp(`does not trust \\(.+\\), SHA-256 ${served.fingerprint}`));
});

test('a malformed pin is refused at startup, naming the field', () => {
  assert.throws(
    () => new SignallingServer({ port: 0, janus: { url: janus.url, fingerprint: 'AA:BB:CC' }, janusLines: ['big'] }),
    (e: unknown) =>
      e instanceof JanusConfigError &&
      e.field === 'janus.fingerprint' &&
      /"AA:BB:CC": fingerprint must be a SHA-256 fingerprint/.test(e.message),
  );
  const cli = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'electron/cli/signal.ts',
      '--port',
      '0',
      '--janus',
      janus.url,
      '--janus-fingerprint',
      'AA:BB:CC',
      '--line',
      'big:s3cret:janus',
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(cli.status, 2, cli.stderr);
  assert.match(
    cli.stderr,
    /--janus-fingerprint "AA:BB:CC": fingerprint must be a SHA-256 fingerprint: 32 hex bytes separated by colons/,
  );
});
