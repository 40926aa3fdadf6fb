// The signalling side of a station, as the engine's StationNetwork: the reconnecting client, the embedded server a
// hosting station runs, and the trust store of the hosts it joined (one per data folder, opened when first needed).
import type { StationNetwork } from '../common/signalling-link';
import { SignallingClient } from './client';
import { startHosting, trustFor } from './hosting';
import { KnownHosts } from './known-hosts';

export function signallingNetwork(dataDir: string | undefined): StationNetwork {
  let knownHosts: KnownHosts | undefined;
  return {
    join: (options) => new SignallingClient(options),
    host: startHosting,
    trust: (url, fingerprint, log) => trustFor(url, fingerprint, () => (knownHosts ??= new KnownHosts(dataDir)), log),
    pinned: (host) => knownHosts?.fingerprintOf(host),
  };
}
