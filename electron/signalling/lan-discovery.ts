// Finding hosts on the crew's LAN: a hosting station advertises itself over mDNS/DNS-SD (bonjour-service) as a
// `_partyline._tcp` service whose TXT record carries its lines, its scheme and its certificate's fingerprint; the
// Connect screen browses for them. A record that does not read as ours is reported, naming it and the field, and
// left out; nothing else changes.
import { silentLog, type Log } from '../common/log';
import { Bonjour, type Browser, type Service } from 'bonjour-service';
import { DiscoveredHost } from '../common/contract';

export const SERVICE_TYPE = 'partyline';
/** TXT `v`: the record's shape, so a later shape is told apart rather than misread. */
const RECORD_VERSION = '1';

export interface Advertisement {
  /** The hosting station's name (the service instance name). */
  name: string;
  port: number;
  lines: string[];
  /** The certificate's SHA-256 (TLS); absent: plain ws://. */
  fingerprint?: string;
}

export interface LanOptions {
  /** Multicast on this interface address alone (a test's namespace, a machine with several LANs). */
  interfaceAddress?: string;
  log?: Log;
}

function bonjour(options: LanOptions): Bonjour {
  const log = (options.log ?? silentLog).child({ component: 'lan' });
  // multicast-dns binds its socket to the interface's address when given one, where no multicast arrives: bind the
  // wildcard address and multicast through that interface.
  const only = options.interfaceAddress ? { interface: options.interfaceAddress, bind: '0.0.0.0' } : {};
  return new Bonjour(only as never, (error: Error) => log.warn(`mDNS: ${error.message}`));
}

/** Advertises a hosting station until stopped. */
export function advertise(ad: Advertisement, options: LanOptions = {}): { stop(): Promise<void> } {
  const mdns = bonjour(options);
  mdns.publish({
    name: ad.name,
    type: SERVICE_TYPE,
    port: ad.port,
    txt: { v: RECORD_VERSION, scheme: ad.fingerprint ? 'wss' : 'ws', lines: ad.lines.join(','), ...(ad.fingerprint ? { fp: ad.fingerprint } : {}) },
  });
  options.log?.child({ component: 'lan' }).info(`advertising "${ad.name}" (${ad.lines.join(', ')}) on port ${ad.port} over mDNS`);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        mdns.unpublishAll(() => mdns.destroy(() => resolve()));
      }),
  };
}

/** Reads one service as a host of ours, or says what is wrong with it. */
export function readRecord(service: Pick<Service, 'name' | 'port' | 'txt' | 'addresses' | 'referer'>): { host: DiscoveredHost } | { problem: string } {
  const txt = (service.txt ?? {}) as Record<string, unknown>;
  const where = `mDNS record "${String(service.name)}"`;
  if (txt.v !== RECORD_VERSION) return { problem: `${where}: v: ${JSON.stringify(txt.v)} is not a record version this station reads (${RECORD_VERSION})` };
  if (txt.scheme !== 'ws' && txt.scheme !== 'wss') return { problem: `${where}: scheme: ${JSON.stringify(txt.scheme)} is neither ws nor wss` };
  const address = service.referer?.family === 'IPv4' ? service.referer.address : service.addresses?.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  if (!address) return { problem: `${where}: no IPv4 address` };
  const candidate = {
    name: service.name,
    url: `${txt.scheme}://${address}:${String(service.port)}/`,
    lines: typeof txt.lines === 'string' && txt.lines !== '' ? txt.lines.split(',') : [],
    fingerprint: txt.scheme === 'wss' ? (txt.fp ?? '') : null,
  };
  const checked = DiscoveredHost.safeParse(candidate);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = issue?.path[0] === 'fingerprint' ? 'fp' : String(issue?.path[0] ?? 'record');
    return { problem: `${where}: ${field}: ${issue?.message ?? 'invalid'}` };
  }
  return { host: checked.data };
}

/** Browses the LAN for hosts until stopped; `hosts()` is what is there now. */
export class LanBrowser {
  private readonly mdns: Bonjour;
  private readonly browser: Browser;
  private readonly reported = new Set<string>();

  constructor(private readonly options: LanOptions = {}) {
    this.mdns = bonjour(options);
    this.browser = this.mdns.find({ type: SERVICE_TYPE });
    this.browser.on('up', (service) => this.read(service));
    this.browser.on('txt-update', (service) => this.read(service));
  }

  hosts(): DiscoveredHost[] {
    const found = new Map<string, DiscoveredHost>();
    for (const service of this.browser.services) {
      const read = readRecord(service);
      if ('host' in read) found.set(read.host.url, read.host);
    }
    return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Asks the LAN again now, rather than waiting for announcements. */
  refresh(): void {
    this.browser.update();
  }

  stop(): Promise<void> {
    this.browser.stop();
    return new Promise((resolve) => this.mdns.destroy(() => resolve()));
  }

  private read(service: Service): void {
    const read = readRecord(service);
    if ('problem' in read && !this.reported.has(read.problem)) {
      this.reported.add(read.problem);
      this.options.log?.child({ component: 'lan' }).warn(`ignored ${read.problem}`);
    }
  }
}
