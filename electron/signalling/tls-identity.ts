/**
 * A hosting station's TLS identity: the certificate and key it serves signalling and the guest page with. Given as
 * files (`--tls-cert/--tls-key`), or generated on first start (self-signed) and kept in the station's data folder,
 * so its fingerprint stays the same across restarts and the crew's stations, which pin it, keep trusting it.
 */
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { machineAddresses } from './lan-addresses';

export interface TlsIdentity {
  cert: string;
  key: string;
  /** SHA-256 of the certificate, as colon-separated upper-case hex (what browsers and openssl show). */
  fingerprint: string;
  /** Base64 SHA-256 of the public key (SPKI): what Chromium's --ignore-certificate-errors-spki-list takes. */
  spki: string;
  /** Where it came from, for the log. */
  source: string;
}

/** A certificate or key file that cannot be used; `file` names it. */
export class TlsFileError extends Error {
  override readonly name = 'TlsFileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

export const GENERATED_DIR = 'tls';
const CERT_FILE = 'station-cert.pem';
const KEY_FILE = 'station-key.pem';
const VALID_YEARS = 10;

/** Reads and checks a certificate and its key: each must parse, and the key must be the certificate's. */
export function loadTlsFiles(certFile: string, keyFile: string, source = `${certFile}, ${keyFile}`): TlsIdentity {
  const cert = readText(certFile, 'certificate');
  const key = readText(keyFile, 'private key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw new TlsFileError(certFile, `not a PEM certificate (${(e as Error).message})`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new TlsFileError(keyFile, `not a PEM private key (${(e as Error).message})`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new TlsFileError(keyFile, `this key does not belong to the certificate in ${certFile}`);
  if (Date.parse(x509.validTo) < Date.now()) throw new TlsFileError(certFile, `the certificate expired on ${x509.validTo}`);
  return { cert, key, fingerprint: x509.fingerprint256, spki: spkiOf(x509), source };
}

/**
 * The identity kept in `dataDir/tls`, made on first use. Without a data folder (a station embedded in a test or a
 * tool) it lives as long as the process.
 */
export async function stationIdentity(dataDir: string | undefined): Promise<TlsIdentity> {
  if (dataDir) {
    const dir = path.join(dataDir, GENERATED_DIR);
    const certFile = path.join(dir, CERT_FILE);
    const keyFile = path.join(dir, KEY_FILE);
    if (existsSync(certFile) || existsSync(keyFile)) return loadTlsFiles(certFile, keyFile, `kept in ${dir}`);
    const made = await selfSigned();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, made.key, { mode: 0o600 });
    writeFileSync(certFile, made.cert);
    return { ...made, source: `generated in ${dir}` };
  }
  return { ...(await selfSigned()), source: 'generated for this run only (no data folder)' };
}

async function selfSigned(): Promise<Omit<TlsIdentity, 'source'>> {
  const name = hostname() || 'partyline';
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + VALID_YEARS * 365 * 24 * 3600 * 1000);
  const ips = ['127.0.0.1', '::1', ...machineAddresses()];
  const pems = await generate([{ name: 'commonName', value: `Partyline station ${name}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 2, value: name }, ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  const x509 = new X509Certificate(pems.cert);
  return { cert: pems.cert, key: pems.private, fingerprint: x509.fingerprint256, spki: spkiOf(x509) };
}

function spkiOf(x509: X509Certificate): string {
  const der = x509.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TlsFileError(file, code === 'ENOENT' ? `no such ${what} file` : `cannot read the ${what} (${(e as Error).message})`);
  }
}
