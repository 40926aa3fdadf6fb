// LAN discovery across machines (network namespaces on one switch): a hosting station advertises itself over
// mDNS/DNS-SD, and a machine elsewhere on the LAN finds its name, lines, URL and certificate fingerprint; a record with
// garbage is reported by name and left out; a station that stops hosting is gone from the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { NetLab, NetnsUnavailable } from '../testkit/netns';
import { StationProcess } from '../testkit/station-process';
import { sleep } from '../testkit/pulse';
import { readRecord } from '../electron/signalling/lan-discovery';
import type { DiscoveredHost } from '../electron/common/contract';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..');

/** The latest host list a browsing probe printed, and what it logged. */
function watch(child: ChildProcess): { hosts: () => DiscoveredHost[]; logs: string[] } {
  let hosts: DiscoveredHost[] = [];
  const logs: string[] = [];
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) {
      const m = JSON.parse(l) as { hosts?: DiscoveredHost[]; log?: string };
      if (m.hosts) hosts = m.hosts;
      if (m.log) logs.push(m.log);
    }
  });
  return { hosts: () => hosts, logs };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('a hosting station is found from another machine on the LAN: name, lines, URL, fingerprint; garbage is named and left out', async (t) => {
  let lab: NetLab;
  try {
    lab = await NetLab.create(['host', 'crew', 'junk']);
  } catch (e) {
    if (e instanceof NetnsUnavailable) return t.skip(e.message);
    throw e;
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'partyline-lan-'));
  let station: StationProcess | undefined;
  try {
    // Like any machine on a LAN, each has a route for multicast; the switch floods it to every port.
    await run('ip', ['-n', lab.mid.ns, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    for (const h of lab.hosts.values()) await run('ip', ['-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    const probe = (name: string, mode: string) =>
      lab.spawnIn(name, process.execPath, ['--import', 'tsx', path.join('test', 'support', 'lan-probe.ts'), mode, lab.host(name).address], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const crew = watch(probe('crew', 'browse'));
    probe('junk', 'garbage');

    // No sound device needed to host (see station-no-device.test.ts).
    station = new StationProcess(
      ['--name', 'Stage Left', '--host', '--port', '0', '--line', 'main', '--line', 'Stage Left', '--ui', '--data-dir', dataDir, '--lan-discovery', 'on'],
      { ...process.env, PULSE_SERVER: 'unix:/nonexistent' },
      'host',
      lab.host('host').ns,
    );
    const port = Number((await station.waitFor(/hosting wss:\/\/[^:]+:(\d+)/))[1]);
    const fingerprint = (await station.waitFor(/TLS certificate SHA-256 (\S+)/))[1] as string;
    await station.waitFor(/\[lan\] advertising "Stage Left"/);

    const found = await until(`the station in the crew machine's list (crew: ${JSON.stringify(crew.hosts())} ${crew.logs.join(' / ')}; host: ${station.lines.filter((l) => l.includes('[lan]')).join(' / ')})`, () => crew.hosts().find((h) => h.name === 'Stage Left'));
    assert.deepEqual(found, { name: 'Stage Left', url: `wss://${lab.host('host').address}:${port}/`, lines: ['main', 'Stage Left'], fingerprint });
    const named = await until('the garbage record reported', () => crew.logs.find((l) => l.includes('"Junk"')));
    assert.match(named, /ignored mDNS record "Junk": fp: fingerprint must be a SHA-256 fingerprint/);
    assert.ok(!crew.hosts().some((h) => h.name === 'Junk'), 'the garbage record is not listed');

    // Leaving the air takes the record with it.
    assert.equal(await station.stop(), '0', station.tail());
    station = undefined;
    await until('the station gone from the list', () => (crew.hosts().some((h) => h.name === 'Stage Left') ? undefined : true));
  } finally {
    if (station) await station.stop();
    await lab.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a record is read field by field: each fault named, nothing thrown', () => {
  const base = { name: 'FOH', port: 8420, addresses: ['10.0.0.5'], referer: undefined, txt: { v: '1', scheme: 'ws', lines: 'main,aux' } };
  assert.deepEqual(readRecord(base), { host: { name: 'FOH', url: 'ws://10.0.0.5:8420/', lines: ['main', 'aux'], fingerprint: null } });
  const problem = (over: object) => {
    const read = readRecord({ ...base, ...over } as never);
    return 'problem' in read ? read.problem : 'read';
  };
  assert.match(problem({ txt: { ...base.txt, v: '7' } }), /"FOH": v: "7" is not a record version/);
  assert.match(problem({ txt: { ...base.txt, scheme: 'ftp' } }), /scheme: "ftp" is neither ws nor wss/);
  assert.match(problem({ txt: { ...base.txt, scheme: 'wss' } }), /fp: fingerprint must be/);
  assert.match(problem({ txt: { ...base.txt, lines: 'main,,x' } }), /lines/);
  assert.match(problem({ addresses: ['fe80::1'] }), /no IPv4 address/);
  assert.match(problem({ txt: undefined }), /v: undefined/);
});
