// How a station hosts a line for its crew and whom it trusts when it joins one: the embedded signalling server on
// the LAN, over TLS unless asked not to, and the certificate checks its own signalling client makes.
import type { Log } from '../common/log';
import type { ConnectConfig } from '../common/contract';
import type { Hosted, HostingOptions, HostServer, VerifyServer } from '../common/signalling-link';
import { KnownHosts } from './known-hosts';
import { joinUrls } from './lan-addresses';
import { SignallingServer, builtGuestDir } from './server';
import { loadTlsFiles, stationIdentity, type TlsIdentity } from './tls-identity';

export type { Hosted, HostingOptions, VerifyServer } from '../common/signalling-link';

/** Where a hosting station listens unless told otherwise: every interface, so the crew's other machines reach it. */
export const DEFAULT_HOST_BIND = '0.0.0.0';

export async function startHosting(server: HostServer, lines: ConnectConfig['lines'], options: HostingOptions): Promise<Hosted> {
  const { log } = options;
  const secrets = Object.fromEntries(lines.filter((l) => l.secret).map((l) => [l.line, l.secret as string]));
  const bind = server.bind ?? DEFAULT_HOST_BIND;
  const identity = server.insecure ? undefined : await tlsIdentity(options);
  // The hosting station serves the browser guest page on its signalling port.
  const signalling = new SignallingServer({
    port: server.port,
    host: bind,
    lines: secrets,
    staticDir: builtGuestDir(),
    ...(identity ? { tls: { cert: identity.cert, key: identity.key } } : {}),
  });
  const started = await signalling.start();
  const others = joinUrls(bind, started.port, identity ? 'wss' : 'ws');
  log.info(`hosting ${started.url}`);
  if (identity) {
    log.info(`TLS certificate SHA-256 ${identity.fingerprint} (${identity.source})`);
    log.info(`a browser trusts it with --ignore-certificate-errors-spki-list=${identity.spki}`);
  } else {
    log.warn('insecure: plain ws:// and http://, line secrets travel in clear');
  }
  log.info(others.length > 0 ? `others join at ${others.join(' ')}` : `bound to ${bind}: no other machine can reach it`);
  return {
    server: signalling,
    url: started.url,
    state: { url: started.url, bind, joinUrls: others, ...(identity ? { fingerprint: identity.fingerprint } : {}) },
    verifyServer: identity
      ? ({ fingerprint }) => (fingerprint === identity.fingerprint ? undefined : `this station's own server presented ${fingerprint}, not ${identity.fingerprint}`)
      : undefined,
  };
}

/** The operator's files, or the certificate kept in (or made for) the data folder. */
function tlsIdentity(options: HostingOptions): Promise<TlsIdentity> | TlsIdentity {
  if (options.tls) return loadTlsFiles(options.tls.certFile, options.tls.keyFile);
  return stationIdentity(options.dataDir);
}

/**
 * Trust on first use for a wss:// server: the station's known hosts decide, or the fingerprint the operator gave to
 * (re-)trust it. Undefined for a plain ws:// URL, which the operator chose by its scheme.
 */
export function trustFor(url: string, given: string | undefined, hosts: () => KnownHosts, log: Log): VerifyServer | undefined {
  if (!url.startsWith('wss:')) return undefined;
  const store = hosts();
  return ({ host, fingerprint }) => {
    const verdict = store.verify(host, fingerprint, given);
    if (!verdict.ok) return verdict.message;
    if (verdict.firstUse) log.info(`trusting ${host} on first use: certificate SHA-256 ${fingerprint}`);
    return undefined;
  };
}
