// A headless station that started without a sound device keeps asking for the devices it was given (the system
// defaults unless --input/--output named others) until they open, so plugging in a headset or starting the sound
// server is enough. It stops as soon as both directions are open, or when the operator picks devices themselves.
import type { Log } from '../common/log';
import type { DeviceChoice } from '../engine/media/media-protocol';
import type { Station } from '../engine/station';

export function awaitDevices(station: Station, choice: DeviceChoice, everyMs: number, log: Log): { stop: () => void } {
  let stopped = false;
  let trying = false;
  const timer = setInterval(() => {
    const { inputState, outputState } = station.state().devices;
    if (inputState === 'ok' && outputState === 'ok') return stop();
    if (trying) return;
    trying = true;
    station
      .selectDevices(choice)
      .then((selection) => {
        if (stopped) return;
        log.child({ component: 'audio' }).info(`devices available now: input ${selection.inputId ?? 'default'} (${selection.inputState}), output ${selection.outputId ?? 'default'} (${selection.outputState})`);
        stop();
      })
      .catch(() => undefined) // still none: the selection carries the error, the UI shows it
      .finally(() => {
        trying = false;
      });
  }, everyMs);
  timer.unref();
  // Someone chose devices (the Devices screen): theirs stand, ours are no longer wanted.
  const onEvent = (name: string) => {
    if (name === 'devices' && !trying) {
      const { inputState, outputState } = station.state().devices;
      if (inputState === 'ok' && outputState === 'ok') stop();
    }
  };
  station.on('event', onEvent);
  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    station.off('event', onEvent);
  }
  return { stop };
}
