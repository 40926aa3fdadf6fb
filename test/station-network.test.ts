// The signalling side's StationNetwork: LAN discovery is there only when asked for, and what one station advertises
// another finds by browsing (mDNS on the loopback interface alone).
import { linesLog } from '../electron/compose/log';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signallingNetwork } from '../electron/signalling/station-network';
import type { DiscoveredHost } from '../electron/common/contract';

const LOOPBACK = { interfaceAddress: '127.0.0.1' };

test('without LAN options the network has no LAN discovery, so nothing is multicast', () => {
  assert.equal(signallingNetwork(undefined).lan, undefined);
});

test('a station advertised through one network is found by browsing through another', async () => {
  const logged: string[] = [];
  const host = signallingNetwork(undefined, { ...LOOPBACK, log: linesLog((line) => logged.push(line)) });
  const crew = signallingNetwork(undefined, LOOPBACK);
  assert.ok(host.lan && crew.lan);
  const advertising = host.lan.advertise({ name: 'Network Probe', port: 8431, lines: ['main', 'tech'] });
  try {
    let found: DiscoveredHost | undefined;
    assert.deepEqual(crew.lan.hosts(), [], 'browsing starts with the first look');
    for (let i = 0; i < 100 && !found; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      found = crew.lan.hosts().find((h) => h.name === 'Network Probe');
    }
    assert.deepEqual(found, {
      name: 'Network Probe',
      url: 'ws://127.0.0.1:8431/',
      lines: ['main', 'tech'],
      fingerprint: null,
    });
    assert.ok(
      logged.some((line) => line.includes('[lan] advertising "Network Probe"')),
      logged.join('\n'),
    );
  } finally {
    await advertising.stop();
    await crew.lan.stopBrowsing();
  }
});
