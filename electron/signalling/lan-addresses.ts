/**
 * The URLs other machines use to reach a server bound to `bind`: each of this machine's own addresses when it binds
 * every interface, the bound address otherwise. Loopback is left out (it reaches only this machine), and so are
 * IPv6 link-local addresses (they need a zone a URL cannot carry portably).
 */
import { networkInterfaces } from 'node:os';

export function machineAddresses(): string[] {
  const found: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      if (entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80:')) continue;
      found.push(entry.address);
    }
  }
  return found;
}

export function joinUrls(bind: string, port: number, scheme: 'ws' | 'wss'): string[] {
  if (bind === 'localhost' || bind === '::1' || bind.startsWith('127.')) return [];
  const everywhere = bind === '0.0.0.0' || bind === '::';
  const addresses = everywhere ? machineAddresses().filter((a) => bind === '::' || !a.includes(':')) : [bind];
  return addresses.map((a) => `${scheme}://${a.includes(':') ? `[${a}]` : a}:${port}/`);
}
