// The composition root of a station, shared by the headless CLI and the desktop app's main process: the engine's
// Station wired to the signalling folder's network, under the control contract with the update commands of a
// station that does not update itself (the desktop app puts its updater in front).
import { Station, type StationOptions, type StationParts } from '../engine/station';
import { createStationControl, type StationControlHandle } from '../engine/station-facade';
import { signallingNetwork } from '../signalling/station-network';
import { HEADLESS_UPDATES_REASON, UnmanagedUpdates } from '../update/update-control';

export function composeStation(options: StationOptions = {}, parts: Partial<StationParts> = {}): Station {
  return new Station(options, { network: signallingNetwork(options.dataDir), ...parts });
}

export function composeStationControl(options: StationOptions & { version: string }): StationControlHandle {
  const { version, ...stationOptions } = options;
  return createStationControl({
    version,
    station: composeStation(stationOptions),
    updates: new UnmanagedUpdates(version, HEADLESS_UPDATES_REASON),
  });
}
