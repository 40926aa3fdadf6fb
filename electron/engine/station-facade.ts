import {
  type CommandInput,
  type CommandName,
  type CommandOutput,
  DEFAULT_SETTINGS,
  type EventName,
  type EventPayload,
  Settings,
  type StationControl,
  type UpdateRestartResult,
  type UpdateState,
} from '../common/contract';
import type { Station } from './station';

/**
 * Who answers update.*: the composition root passes the desktop app's updater (electron/control/update-commands.ts
 * puts it in front) or, for a bare station, one that says who updates it.
 */
export interface StationUpdates {
  state(): UpdateState;
  check(): Promise<UpdateState>;
  setChannel(): Promise<UpdateState>;
  download(): Promise<UpdateState>;
  restart(): Promise<UpdateRestartResult>;
}

export interface StationControlOptions {
  /** The app's version, reported by app.info. */
  version: string;
  /** The station to drive. */
  station: Station;
  updates: StationUpdates;
}

export interface StationControlHandle extends StationControl {
  readonly station: Station;
}

/** The contract's commands and events over one Station: what both transports (IPC, WebSocket) drive. */
export function createStationControl(options: StationControlOptions): StationControlHandle {
  const { station, updates } = options;
  // Without a settings store in front (electron/control/settings-control.ts), settings last as long as the process.
  let settings: Settings = structuredClone(DEFAULT_SETTINGS);
  const handlers: { [C in CommandName]: (input: CommandInput<C>) => Promise<CommandOutput<C>> | CommandOutput<C> } = {
    'devices.list': () => station.listDevices(),
    'devices.select': (input) => station.selectDevices(input),
    'devices.testTone': (input) => station.setTestTone(input.on, input.frequencyHz, input.levelDb),
    'station.connect': (input) => station.connect(input as CommandOutput<'station.connect'> & CommandInput<'station.connect'>),
    'station.disconnect': () => station.disconnect(),
    'station.getState': () => station.state(),
    'lan.hosts': () => station.lanHosts(),
    'station.setLines': (input) => station.setLines(input.lines),
    'line.setTalk': (input) => station.setTalk(input.line, input.on),
    'line.setListen': (input) => station.setListen(input.line, input.on),
    'line.setVolume': (input) => station.setVolume(input.line, input.volume),
    'line.call': (input) => station.callLine(input.line),
    'line.answerCall': (input) => station.answerCall(input.line),
    'talk.allOff': () => station.allTalkOff(),
    'talk.direct': (input) => station.talkDirect(input.stationId, input.on),
    'talk.reply': (input) => station.reply(input.on),
    'master.setMicMute': (input) => station.setMicMute(input.muted),
    'master.setVolume': (input) => station.setMasterVolume(input.volume),
    'master.setCallTone': (input) => station.setCallTone(input.on),
    'settings.get': () => settings,
    'hotkeys.getState': () => ({
      available: false,
      reason: 'global hotkeys are the desktop app\'s: a headless station has the keypanel\'s own keys',
      bindings: settings.hotkeys.map((b) => ({ ...b, state: 'off' as const })),
    }),
    'settings.update': (patch) => (settings = Settings.parse({ ...settings, ...patch })),
    'update.getState': () => updates.state(),
    'update.check': () => updates.check(),
    'update.setChannel': () => updates.setChannel(),
    'update.download': () => updates.download(),
    'update.restart': () => updates.restart(),
    'app.info': () => ({ version: options.version, transport: 'ipc' as const, platform: process.platform }),
  };
  return {
    station,
    async invoke<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
      const handler = handlers[name] as (input: CommandInput<C>) => Promise<CommandOutput<C>> | CommandOutput<C>;
      return handler(input);
    },
    subscribe(listener: <E extends EventName>(name: E, payload: EventPayload<E>) => void): () => void {
      const forward = (name: EventName, payload: EventPayload<EventName>) => listener(name, payload);
      station.on('event', forward);
      return () => station.off('event', forward);
    },
  };
}
