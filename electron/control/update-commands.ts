// Puts the updater in front of a station: answers update.* itself and adds `update` events to the station's own.
import type { CommandInput, CommandName, CommandOutput, StationControl } from '../common/contract';
import type { UpdateCommands } from '../update/update-control';

export function withUpdates(station: StationControl, updates: UpdateCommands): StationControl {
  async function invoke<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
    switch (name) {
      case 'update.getState':
        return updates.state() as CommandOutput<C>;
      case 'update.check':
        return (await updates.check()) as CommandOutput<C>;
      case 'update.setChannel':
        return (await updates.setChannel((input as CommandInput<'update.setChannel'>).channel)) as CommandOutput<C>;
      case 'update.download':
        return (await updates.download()) as CommandOutput<C>;
      case 'update.restart':
        return (await updates.restart((input as CommandInput<'update.restart'>).confirmed === true)) as CommandOutput<C>;
      default:
        return station.invoke(name, input);
    }
  }

  return {
    invoke,
    subscribe(listener) {
      const stopStation = station.subscribe(listener);
      const stopUpdates = updates.subscribe((state) => listener('update', state));
      return () => {
        stopUpdates();
        stopStation();
      };
    },
  };
}
