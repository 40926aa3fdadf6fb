// TLS for hosting and trust on first use for joining: the generated certificate, the operator's files (and bad
// ones), and a joining client that pins a host's certificate and refuses a changed one before sending anything.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignallingClient } from '../electron/signalling/client';
import { KNOWN_HOSTS_FILE, KnownHosts } from '../electron/signalling/known-hosts';
import { SignallingServer } from '../electron/signalling/server';
import { GENERATED_DIR, loadTlsFiles, stationIdentity, TlsFileError, type TlsIdentity } from '../electron/signalling/tls-identity';

const scratch = mkdtempSync(path.join(tmpdir(), 'partyline-tls-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

function dir(name: string): string {
  return mkdtempSync(path.join(scratch, `${name}-`));
}

test('a hosting station makes its certificate on first start, keeps it in its data folder, and serves the same one after', async () => {
  const data = dir('data');
  const first = await stationIdentity(data);
  assert.match(first.fingerprint, FINGERPRINT);
  assert.match(first.source, /generated in/);
  const keyFile = path.join(data, GENERATED_DIR, 'station-key.pem');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'only the station may read its key');
  const again = await stationIdentity(data);
  assert.equal(again.fingerprint, first.fingerprint);
  assert.match(again.source, /kept in/);
});

test('malformed, missing and mismatched certificate and key files are errors naming the file', async () => {
  const d = dir('files');
  const good = await stationIdentity(dir('good'));
  const other = await stationIdentity(dir('other'));
  const write = (name: string, text: string) => {
    const file = path.join(d, name);
    writeFileSync(file, text);
    return file;
  };
  const cert = write('cert.pem', good.cert);
  const key = write('key.pem', good.key);
  const garbage = write('garbage.pem', '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  const otherKey = write('other-key.pem', other.key);
  assert.equal(loadTlsFiles(cert, key).fingerprint, good.fingerprint);
  const refuses = (certFile: string, keyFile: string, file: string, pattern: RegExp) =>
    assert.throws(() => loadTlsFiles(certFile, keyFile), (e: unknown) => e instanceof TlsFileError && e.file === file && e.message.startsWith(file) && pattern.test(e.message));
  refuses(garbage, key, garbage, /not a PEM certificate/);
  refuses(cert, garbage, garbage, /not a PEM private key/);
  refuses(cert, otherKey, otherKey, /does not belong to the certificate/);
  refuses(path.join(d, 'absent.pem'), key, path.join(d, 'absent.pem'), /no such certificate file/);

  // The station refuses them at start, naming the flag and the file, before it opens anything.
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'electron/cli/station.ts', '--name', 'A', '--host', '--line', 'main', '--tls-cert', garbage, '--tls-key', key], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`--tls-cert ${garbage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a PEM certificate`));
});

async function serve(identity: TlsIdentity, port = 0): Promise<{ server: SignallingServer; url: string; port: number; joins: string[] }> {
  const server = new SignallingServer({ port, tls: { cert: identity.cert, key: identity.key } });
  const joins: string[] = [];
  server.on('joined', (s) => joins.push(s.stationId));
  const started = await server.start();
  return { server, ...started, joins };
}

/** Joins with a client that checks the certificate against `hosts`; resolves with what happened first. */
function attempt(url: string, hosts: KnownHosts, given?: string): Promise<{ outcome: 'joined' } | { outcome: 'untrusted'; reason: string }> {
  const client = new SignallingClient({
    url,
    stationId: 'b',
    name: 'B',
    kind: 'station',
    lines: [{ line: 'main', secret: 'line secret' }],
    keepaliveMs: 0,
    verifyServer: ({ host, fingerprint }) => {
      const verdict = hosts.verify(host, fingerprint, given);
      return verdict.ok ? undefined : verdict.message;
    },
  });
  return new Promise((resolve) => {
    client.once('joined', () => void client.close().then(() => resolve({ outcome: 'joined' })));
    client.once('untrusted', (reason) => resolve({ outcome: 'untrusted', reason }));
  });
}

test('serves signalling over wss and the guest page over https; a joining client pins the certificate on first use and refuses a changed one', async () => {
  const hostData = dir('host');
  const joinerData = dir('joiner');
  const original = await stationIdentity(hostData);
  const first = await serve(original);
  assert.match(first.url, /^wss:\/\//);
  const page = await new Promise<number>((resolve, reject) => {
    get(`https://127.0.0.1:${first.port}/`, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.ok(page === 200 || page === 404, `an HTTPS answer (${page})`);

  assert.deepEqual(await attempt(first.url, new KnownHosts(joinerData)), { outcome: 'joined' });
  const host = `127.0.0.1:${first.port}`;
  assert.deepEqual(JSON.parse(readFileSync(path.join(joinerData, KNOWN_HOSTS_FILE), 'utf8')), { [host]: original.fingerprint }, 'pinned in the data folder');
  await first.server.close();

  // The same address now presents another certificate (another machine, or the station's was replaced).
  const impostor = await stationIdentity(dir('impostor'));
  const second = await serve(impostor, first.port);
  try {
    const refused = await attempt(second.url, new KnownHosts(joinerData));
    assert.equal(refused.outcome, 'untrusted');
    const reason = refused.outcome === 'untrusted' ? refused.reason : '';
    assert.ok(reason.includes(host), `names the host: ${reason}`);
    assert.ok(reason.includes(impostor.fingerprint) && reason.includes(original.fingerprint), `names both fingerprints: ${reason}`);
    assert.deepEqual(second.joins, [], 'nothing was sent to it: no join, no line secret');

    // A wrong fingerprint given to re-trust is refused too; the right one re-pins.
    const wrong = await attempt(second.url, new KnownHosts(joinerData), original.fingerprint);
    assert.equal(wrong.outcome, 'untrusted');
    assert.deepEqual(await attempt(second.url, new KnownHosts(joinerData), impostor.fingerprint.toLowerCase()), { outcome: 'joined' });
    assert.deepEqual(await attempt(second.url, new KnownHosts(joinerData)), { outcome: 'joined' }, 're-trusted for next time');
    assert.deepEqual(second.joins, ['b', 'b']);
  } finally {
    await second.server.close();
  }
});

test('the standalone signalling server serves wss with the operator\'s files and refuses a bad one naming it', async () => {
  const identity = await stationIdentity(dir('standalone'));
  const d = dir('standalone-files');
  const cert = path.join(d, 'cert.pem');
  const key = path.join(d, 'key.pem');
  writeFileSync(cert, identity.cert);
  writeFileSync(key, 'garbage');
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'electron/cli/signal.ts', '--port', '0', '--tls-cert', cert, '--tls-key', key], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(bad.status, 2, bad.stderr);
  assert.ok(bad.stderr.includes(`--tls-key ${key}: not a PEM private key`), bad.stderr);

  writeFileSync(key, identity.key);
  const child = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/signal.ts', '--port', '0', '--tls-cert', cert, '--tls-key', key], { cwd: path.join(__dirname, '..') });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /signalling on (\S+?)(;|\s|$)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`signal exited ${code}: ${out}`)));
    });
    assert.match(url, /^wss:\/\//);
    const hosts = new KnownHosts(dir('standalone-joiner'));
    assert.deepEqual(await attempt(url, hosts), { outcome: 'joined' });
    assert.equal(hosts.fingerprintOf(new URL(url).host), identity.fingerprint);
  } finally {
    child.kill('SIGINT');
  }
});

test('a trust store with garbage in it is an error naming the file, and nothing is overwritten', () => {
  const d = dir('garbage-store');
  const file = path.join(d, KNOWN_HOSTS_FILE);
  writeFileSync(file, '{"10.0.0.5:8420": "not a fingerprint"}');
  assert.throws(() => new KnownHosts(d), (e: Error) => e.message.startsWith(file) && /not a SHA-256 fingerprint/.test(e.message));
  writeFileSync(file, 'garbage');
  assert.throws(() => new KnownHosts(d), (e: Error) => e.message.startsWith(file) && /not JSON/.test(e.message));
  assert.equal(readFileSync(file, 'utf8'), 'garbage');
});
