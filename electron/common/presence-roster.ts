/**
 * A client's view of who shares its lines, kept from `joined` (a snapshot), `presence` (a complete list) and
 * `presence-delta` (changes). Stations and the browser guest both keep one, so the rest of each client sees complete,
 * sorted lists whichever form the server sent.
 */
import type { Presence, PresenceDeltaMessage } from './signalling-protocol';

export class PresenceRoster {
  private readonly peers = new Map<string, Presence>();

  /** A complete list (`joined.peers`, `presence.peers`) replaces everything known. */
  replace(peers: readonly Presence[]): void {
    this.peers.clear();
    for (const p of peers) this.peers.set(p.stationId, p);
  }

  apply(delta: Pick<PresenceDeltaMessage, 'set' | 'gone'>): void {
    for (const id of delta.gone) this.peers.delete(id);
    for (const p of delta.set) this.peers.set(p.stationId, p);
  }

  /** Sorted by stationId, as the server sorts its complete lists. */
  list(): Presence[] {
    return [...this.peers.values()].sort((a, b) => (a.stationId < b.stationId ? -1 : a.stationId > b.stationId ? 1 : 0));
  }

  get size(): number {
    return this.peers.size;
  }
}
