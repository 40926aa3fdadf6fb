// The signalling side of a station, as the engine's StationNetwork: the reconnecting client, the embedded server a
// hosting station runs, the trust store of the hosts it joined (one per data folder, opened when first needed), and
// LAN discovery when it is on.
import type { LanDiscovery, StationNetwork } from '../common/signalling-link';
import { SignallingClient } from './client';
import { startHosting, trustFor } from './hosting';
import { KnownHosts } from './known-hosts';
import { advertise, LanBrowser, type LanOptions } from './lan-discovery';

export function signallingNetwork(dataDir: string | undefined, lan?: LanOptions): StationNetwork {
  let knownHosts: KnownHosts | undefined;
  return {
    join: (options) => new SignallingClient(options),
    host: startHosting,
    trust: (url, fingerprint, log) => trustFor(url, fingerprint, () => (knownHosts ??= new KnownHosts(dataDir)), log),
    pinned: (host) => knownHosts?.fingerprintOf(host),
    ...(lan ? { lan: lanDiscovery(lan) } : {}),
  };
}

/** Browsing starts with the first look and then goes on, so the Connect screen's list fills in while it is open. */
function lanDiscovery(options: LanOptions): LanDiscovery {
  let browser: LanBrowser | undefined;
  return {
    advertise: (ad) => advertise(ad, options),
    hosts: () => {
      if (!browser) browser = new LanBrowser(options);
      else browser.refresh();
      return browser.hosts();
    },
    stopBrowsing: async () => {
      const stopping = browser;
      browser = undefined;
      await stopping?.stop();
    },
  };
}
