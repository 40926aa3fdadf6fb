// PLACEHOLDER written by the control-surface helper so electron/main.ts type-checks; the lead replaces it
// with the real engine facade. Every command fails with a clear message until then.
import type { StationControl } from '../common/contract';

export interface StationControlOptions {
  /** The app's version, reported by app.info. */
  version: string;
}

export function createStationControl(_options: StationControlOptions): StationControl {
  return {
    invoke: async (name) => {
      throw Object.assign(new Error(`${name}: the audio engine is not built yet`), { code: 'failed' });
    },
    subscribe: () => () => undefined,
  };
}
