/**
 * Trust on first use for the stations a station joins over wss://: the first certificate a host presents is pinned
 * (by SHA-256) in known-hosts.json in the station's data folder, and a later, different one is refused with an error
 * naming the host and both fingerprints. The operator re-trusts by giving the new fingerprint, read off the hosting
 * station, when joining.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const KNOWN_HOSTS_FILE = 'known-hosts.json';

export type Verdict = { ok: true; firstUse: boolean } | { ok: false; message: string };

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

export function normalFingerprint(text: string): string {
  return text.trim().toUpperCase();
}

export function isFingerprint(text: string): boolean {
  return FINGERPRINT.test(normalFingerprint(text));
}

export class KnownHosts {
  private readonly hosts: Record<string, string>;

  /** `dataDir` undefined keeps the pins in memory only. A store that cannot be read is an error naming its file. */
  constructor(private readonly dataDir: string | undefined) {
    this.hosts = dataDir ? readStore(path.join(dataDir, KNOWN_HOSTS_FILE)) : {};
  }

  /** `host` is host:port as in the URL; `given` is a fingerprint the operator supplied to (re-)trust. */
  verify(host: string, fingerprint: string, given?: string): Verdict {
    const presented = normalFingerprint(fingerprint);
    if (given !== undefined) {
      const wanted = normalFingerprint(given);
      if (wanted !== presented) {
        return { ok: false, message: `${host} presents certificate SHA-256 ${presented}, not the fingerprint given to trust (${wanted}); not joined` };
      }
      this.pin(host, presented);
      return { ok: true, firstUse: false };
    }
    const known = this.hosts[host];
    if (known === undefined) {
      this.pin(host, presented);
      return { ok: true, firstUse: true };
    }
    if (known === presented) return { ok: true, firstUse: false };
    return {
      ok: false,
      message:
        `${host} presents certificate SHA-256 ${presented}, but ${known} was trusted for it before; not joined. ` +
        'If that station made a new certificate, compare the fingerprint it shows and join again giving it (--fingerprint, or Certificate fingerprint on the Connect screen)',
    };
  }

  fingerprintOf(host: string): string | undefined {
    return this.hosts[host];
  }

  private pin(host: string, fingerprint: string): void {
    this.hosts[host] = fingerprint;
    if (!this.dataDir) return;
    mkdirSync(this.dataDir, { recursive: true });
    writeFileSync(path.join(this.dataDir, KNOWN_HOSTS_FILE), `${JSON.stringify(this.hosts, null, 2)}\n`);
  }
}

function readStore(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${file}: cannot read the trusted certificates (${(e as Error).message})`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file}: the trusted certificates are not JSON; fix or delete the file (every host is then trusted anew on first use)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}: expected an object of host -> fingerprint`);
  const hosts: Record<string, string> = {};
  for (const [host, fingerprint] of Object.entries(parsed)) {
    if (typeof fingerprint !== 'string' || !isFingerprint(fingerprint)) throw new Error(`${file}: the fingerprint for ${host} is not a SHA-256 fingerprint`);
    hosts[host] = normalFingerprint(fingerprint);
  }
  return hosts;
}
