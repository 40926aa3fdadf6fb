// Going on air with a signalling server (electron/engine/control/server-on-air.ts): a hosted one is advertised on
// the LAN only when others can reach it, and a start that fails halfway leaves nothing running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverOnAir } from '../electron/engine/control/server-on-air';
import type { Hosted, LanAdvertisement, StationNetwork } from '../electron/common/signalling-link';
import type { ConnectConfig } from '../electron/common/contract';
import { silentLog } from '../electron/common/log';

function network(joinUrls: string[], advertise: (ad: LanAdvertisement) => void) {
  const events: string[] = [];
  const hosted: Hosted = {
    server: { close: async () => void events.push('server closed') },
    url: 'wss://127.0.0.1:8443',
    state: { url: 'wss://127.0.0.1:8443', bind: '0.0.0.0', joinUrls, fingerprint: 'AB:CD' },
    verifyServer: () => undefined,
  };
  const net: StationNetwork = {
    join: () => assert.fail('not joined here'),
    host: async () => (events.push('hosted'), hosted),
    trust: (url) => (events.push(`trust ${url}`), undefined),
    pinned: () => undefined,
    lan: {
      advertise: (ad) => {
        advertise(ad);
        events.push(`advertised ${ad.name} on ${ad.port} (${ad.lines.join(', ')}) ${ad.fingerprint}`);
        return { stop: async () => void events.push('advertisement stopped') };
      },
      hosts: () => [],
      stopBrowsing: async () => undefined,
    },
  };
  return { net, events };
}

const hostConfig: ConnectConfig = { name: 'Stage Left', server: { kind: 'host', port: 8443 }, lines: [{ line: 'main' }, { line: 'tech' }], iceServers: [] };
const options = { dataDir: undefined, tls: undefined, log: silentLog };

test('a hosted server reachable from the LAN is advertised with its lines and fingerprint; closing stops both', async () => {
  const { net, events } = network(['wss://10.0.0.2:8443'], () => undefined);
  const onAir = await serverOnAir(net, hostConfig, options);
  assert.equal(onAir.url, 'wss://127.0.0.1:8443');
  assert.deepEqual(onAir.hosting?.joinUrls, ['wss://10.0.0.2:8443']);
  await onAir.close();
  assert.deepEqual(events, ['hosted', 'advertised Stage Left on 8443 (main, tech) AB:CD', 'advertisement stopped', 'server closed']);
});

test('a server bound to loopback alone is not advertised; a joined server is trusted, not hosted', async () => {
  const loopback = network([], () => undefined);
  await (await serverOnAir(loopback.net, hostConfig, options)).close();
  assert.deepEqual(loopback.events, ['hosted', 'server closed']);

  const joined = network([], () => undefined);
  const onAir = await serverOnAir(joined.net, { ...hostConfig, server: { kind: 'remote', url: 'wss://10.0.0.9:8443' } }, options);
  assert.equal(onAir.hosting, null);
  await onAir.close();
  assert.deepEqual(joined.events, ['trust wss://10.0.0.9:8443']);
});

test('an advertisement that fails closes the server it was for, and the error comes through', async () => {
  const { net, events } = network(['wss://10.0.0.2:8443'], () => {
    throw new Error('mDNS socket: EADDRINUSE');
  });
  await assert.rejects(serverOnAir(net, hostConfig, options), /EADDRINUSE/);
  assert.deepEqual(events, ['hosted', 'server closed']);
});
