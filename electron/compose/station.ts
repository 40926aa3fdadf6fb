// The composition root of a station, shared by the headless CLI and the desktop app's main process: the engine's
// Station wired to the signalling folder's network, under the control contract with the update commands of a
// station that does not update itself (the desktop app puts its updater in front).
import { startDeviceScanner } from '../../native/bridge';
import { Station, type StationOptions, type StationParts } from '../engine/station';
import { createStationControl, type StationControlHandle } from '../engine/station-facade';
import type { LanOptions } from '../signalling/lan-discovery';
import { signallingNetwork } from '../signalling/station-network';
import { HEADLESS_UPDATES_REASON, UnmanagedUpdates } from '../update/update-control';

export interface ComposedStationOptions extends StationOptions {
  /**
   * LAN discovery over mDNS: a hosting station advertises itself, and `lan.hosts` browses for others. Off unless
   * given (the CLI and the desktop app turn it on), so a station in a test sends no multicast where it should not.
   */
  lan?: LanOptions;
}

export function composeStation(options: ComposedStationOptions = {}, parts: Partial<StationParts> = {}): Station {
  const { lan, ...stationOptions } = options;
  // Its process starts now, before the media thread exists: a fork later would stall every thread of this one.
  startDeviceScanner();
  const network = signallingNetwork(options.dataDir, lan && { ...lan, ...(options.log ? { log: options.log } : {}) });
  return new Station(stationOptions, { network, ...parts });
}

export function composeStationControl(options: ComposedStationOptions & { version: string }): StationControlHandle {
  const { version, ...stationOptions } = options;
  return createStationControl({
    version,
    station: composeStation(stationOptions),
    updates: new UnmanagedUpdates(version, HEADLESS_UPDATES_REASON),
  });
}
