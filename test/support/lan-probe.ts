/**
 * A machine on the test's LAN looking for hosts, or publishing a record that is not ours: `browse ADDRESS` prints
 * `{"hosts":[...]}` every 200 ms and `{"log":"..."}` for what LanBrowser reports; `garbage ADDRESS` advertises a
 * `_partyline._tcp` record with a bad fingerprint until killed.
 */
import { linesLog } from '../../electron/compose/log';
import { Bonjour } from 'bonjour-service';
import { LanBrowser, SERVICE_TYPE } from '../../electron/signalling/lan-discovery';

const [mode, address] = process.argv.slice(2);
if (mode === 'browse') {
  const browser = new LanBrowser({ interfaceAddress: address, log: linesLog((line) => console.log(JSON.stringify({ log: line }))) });
  setInterval(() => console.log(JSON.stringify({ hosts: browser.hosts() })), 200);
} else if (mode === 'garbage') {
  const mdns = new Bonjour({ interface: address, bind: '0.0.0.0' } as never);
  mdns.publish({ name: 'Junk', type: SERVICE_TYPE, port: 9, txt: { v: '1', scheme: 'wss', lines: 'main', fp: 'not-a-fingerprint' } });
} else {
  console.error('usage: lan-probe browse|garbage ADDRESS');
  process.exit(2);
}
