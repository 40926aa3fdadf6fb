// Chromium hides a page's host addresses behind mDNS names (`<uuid>.local`) unless the page holds a media
// permission. A station must resolve such a name, or say that it could not; werift alone drops it after 10 s without
// a word. Multicast must not leave this machine, so the browser tests re-run this file inside a private network
// namespace (unshare -n) whose only link is a veth pair: multicast on, and a default route, without which Chromium
// cannot tell its own address and gathers no host candidate at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';
import { splitMdnsCandidates } from '../electron/engine/mdns-candidates';
import { MdnsResolver } from '../electron/engine/mdns-resolver';
import { PeerTransport } from '../electron/engine/network/peer-transport';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { GuestBrowser, buildGuest } from '../testkit/chromium';
import { dominantFrequency, toneDb } from '../testkit/signal';

const PRIVATE_NETWORK = 'PARTYLINE_PRIVATE_NETWORK';
const ADDRESS = '10.99.0.1';
const NETNS_SETUP = [
  'ip link set lo up',
  'ip link add pl0 type veth peer name pl1',
  `ip addr add ${ADDRESS}/24 dev pl0`,
  'ip link set pl0 multicast on up',
  'ip link set pl1 up',
  'ip route add default dev pl0',
].join(' && ');

test("a description's mDNS candidates are taken out with their m-line, its address candidates stay", () => {
  const sdp = [
    'v=0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=mid:0',
    'a=candidate:1 1 udp 2113937151 0dd51b02-60e8-4d46-bdc7-4580cc324715.local 48494 typ host generation 0',
    'a=candidate:2 1 udp 2122260223 192.0.2.7 40000 typ host generation 0',
    '',
  ].join('\r\n');
  const { sdp: addressed, candidates } = splitMdnsCandidates(sdp);
  assert.deepEqual(candidates, [
    { candidate: 'candidate:1 1 udp 2113937151 0dd51b02-60e8-4d46-bdc7-4580cc324715.local 48494 typ host generation 0', sdpMid: '0', sdpMLineIndex: 0 },
  ]);
  assert.equal(addressed, ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=candidate:2 1 udp 2122260223 192.0.2.7 40000 typ host generation 0', ''].join('\r\n'));
});

test('an m-line whose mDNS candidates are taken out loses its end-of-candidates marker; one that keeps all keeps it', () => {
  const sdp = [
    'v=0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=mid:0',
    'a=candidate:1 1 udp 2113937151 0dd51b02-60e8-4d46-bdc7-4580cc324715.local 48494 typ host generation 0',
    'a=end-of-candidates',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=mid:1',
    'a=candidate:2 1 udp 2122260223 192.0.2.7 40000 typ host generation 0',
    'a=end-of-candidates',
    '',
  ].join('\r\n');
  const { sdp: addressed, candidates } = splitMdnsCandidates(sdp);
  assert.equal(candidates.length, 1);
  assert.equal(
    addressed,
    ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', 'a=candidate:2 1 udp 2122260223 192.0.2.7 40000 typ host generation 0', 'a=end-of-candidates', ''].join('\r\n'),
  );
});

if (process.env[PRIVATE_NETWORK] !== '1') {
  test('(the browser tests run in a private network namespace)', async (t) => {
    const probe = spawnSync('unshare', ['-n', 'sh', '-c', NETNS_SETUP], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.skip(`no private network namespace on this machine (${(probe.stderr || probe.error?.message || '').trim()}): mDNS resolution untested`);
      return;
    }
    const env: NodeJS.ProcessEnv = { ...process.env, [PRIVATE_NETWORK]: '1' };
    delete env.NODE_TEST_CONTEXT; // a run of its own, reporting in text, not to this runner
    const child = spawn('unshare', ['-n', 'sh', '-c', `${NETNS_SETUP} && exec "$0" --import tsx "$1"`, process.execPath, __filename], {
      cwd: process.cwd(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    const report = output.split('\n').filter((l) => !/^ALSA lib|Jack|jack|^Cannot connect/.test(l)).join('\n');
    assert.equal(code, 0, report);
    assert.match(report, /# pass 4\b/, report);
    assert.match(report, /# fail 0\b/, report);
    t.diagnostic(report.split('\n').filter((l) => /^(not )?ok |^# (pass|fail)/.test(l.trim())).join('; '));
  });
} else {
  // Inside the namespace: these run when the test above executes this file.
  let pulse: PulseHarness;
  before(async () => {
    await buildGuest();
    pulse = await PulseHarness.start(['a', 'b']);
  });
  after(async () => {
    await pulse?.stop();
  });

  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  test('a browser without media permission offers only an mDNS name; the station resolves it, connects and hears it', async () => {
    const d = pulse.devices('a');
    const a = new StationProcess(['--name', 'A', '--host', '--port', '0', '--insecure', '--line', 'main', '--input', d.inputId, '--output', d.outputId, '--meters-every', '0'], pulse.env);
    let g: GuestBrowser | undefined;
    try {
      const http = (await a.waitFor(/hosting ws:\/\/(\S+)/))[1] as string;
      g = await GuestBrowser.launch({ pulse, station: 'b', syntheticMicrophoneHz: 660 });
      const id = await g.join(`http://${http}`, { name: 'Hidden guest', line: 'main' });
      await g.tap('#talk');
      const resolved = await a.waitFor(new RegExp(`\\[peer ${escape(id)}\\] mDNS candidate (\\S+) is (\\S+)`));
      assert.match(resolved[1] as string, /^[0-9a-f-]{36}\.local$/, 'Chromium named its host candidate');
      assert.equal(resolved[2], ADDRESS, 'the name resolved to the browser’s address');
      await a.waitFor(new RegExp(`\\[peer ${escape(id)}\\] first RTP`));
      await sleep(1000);
      const atStation = pulse.record(d.speakerMonitor);
      await sleep(2000);
      const heard = await atStation.stop();
      const f = dominantFrequency(heard, 100, 4000);
      assert.ok(Math.abs(f - 660) <= 3, `the station hears ${f} Hz from the browser`);
      assert.ok(toneDb(heard, 660) > -30, `the browser's tone is loud at the station (${toneDb(heard, 660).toFixed(1)} dBFS)`);
      assert.ok(!a.lines.some((l) => l.includes('unresolved')), 'no candidate went unresolved');
    } finally {
      await g?.close();
      assert.equal(await a.stop(), '0');
    }
  });

  test('an mDNS name nobody answers is reported with the name and why, not dropped in silence', async () => {
    const resolver = new MdnsResolver({ timeoutMs: 1500 });
    const peer = new PeerTransport({ stationId: 'hidden', iceServers: [], frameMs: 10, loopbackCandidates: true, resolveMdns: (h) => resolver.resolve(h) });
    const reported = once(peer, 'mdnsUnresolved') as Promise<[string, string]>;
    try {
      const host = '4f6c1c1e-0000-4000-8000-00000000dead.local';
      await peer.addCandidate({ candidate: `candidate:1 1 udp 2113937151 ${host} 50000 typ host generation 0`, sdpMid: '0', sdpMLineIndex: 0 });
      const [name, reason] = await reported;
      assert.equal(name, host);
      assert.match(reason, /^no answer within 1500 ms/);
    } finally {
      await peer.close();
      await resolver.close();
    }
  });
}
