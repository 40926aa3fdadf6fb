import { useId, useState } from 'react';
import type { AudioDevice, DeviceSelection, DeviceState } from '../../../electron/common/contract';
import { MeterCanvas } from '../meters/MeterCanvas';
import { type StationModel, useSnapshot } from '../model';

const INPUT_METER = [{ key: 'input', label: 'Input' }];

function describeState(kind: 'input' | 'output', state: DeviceState, id: string | null, error: string | undefined, fallback: boolean): string | null {
  if (state === 'missing') {
    const meanwhile = fallback ? ` The system default ${kind} is in use until it returns.` : ` No ${kind} is in use; it opens again by itself when it returns.`;
    return `The chosen ${kind} ${id ? `“${id}” ` : ''}is not connected. Plug it back in, or pick another ${kind}.${meanwhile}`;
  }
  if (state === 'error') return `The ${kind} failed: ${error ?? 'unknown error'}.`;
  return null;
}

function DevicePicker(props: {
  kind: 'input' | 'output';
  devices: AudioDevice[];
  defaultId: string | null;
  selection: DeviceSelection | null;
  onPick: (id: string | null) => void;
}) {
  const id = useId();
  const { kind, devices, defaultId, selection } = props;
  const chosen = kind === 'input' ? (selection?.inputId ?? null) : (selection?.outputId ?? null);
  const state = kind === 'input' ? (selection?.inputState ?? 'ok') : (selection?.outputState ?? 'ok');
  const fallback = (kind === 'input' ? selection?.inputFallback : selection?.outputFallback) === true;
  const problem = describeState(kind, state, chosen, selection?.error, fallback);
  const known = chosen === null || devices.some((device) => device.id === chosen);
  const defaultName = devices.find((device) => device.id === defaultId)?.name;
  return (
    <div className={`field device-picker${problem ? ' has-problem' : ''}`}>
      <label htmlFor={id}>{kind === 'input' ? 'Input (microphone)' : 'Output (headphones / speakers)'}</label>
      <select
        id={id}
        value={chosen ?? ''}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
        onChange={(event) => props.onPick(event.currentTarget.value === '' ? null : event.currentTarget.value)}
      >
        <option value="">System default{defaultName ? ` (${defaultName})` : ''}</option>
        {devices.map((device) => (
          <option key={device.id} value={device.id}>
            {device.name} — {device.hostApi}
          </option>
        ))}
        {known ? null : <option value={chosen ?? ''}>Missing: {chosen}</option>}
      </select>
      {problem ? (
        <p id={`${id}-problem`} className="banner warn device-problem" role="alert" data-device-state={state} data-fallback={fallback ? 'default' : undefined}>
          {problem}
        </p>
      ) : null}
    </div>
  );
}

export function Devices({ model }: { model: StationModel }) {
  const { devices, state, settings } = useSnapshot(model);
  const [toneOn, setToneOn] = useState(false);
  const selection = state?.devices ?? null;

  const pick = async (kind: 'input' | 'output', id: string | null) => {
    const next = await model.run('devices.select', kind === 'input' ? { inputId: id } : { outputId: id });
    const current = model.getSnapshot().state;
    if (current) model.patch({ state: { ...current, devices: next } });
  };

  const toggleTone = async () => {
    const tone = settings?.testTone ?? { frequencyHz: 1000, levelDb: -18 };
    const answer = await model.run('devices.testTone', { on: !toneOn, frequencyHz: tone.frequencyHz, levelDb: tone.levelDb });
    setToneOn(answer.on);
  };

  return (
    <section aria-labelledby="devices-title" className="panel">
      <div className="panel-head">
        <h2 id="devices-title">Devices</h2>
        <button type="button" className="quiet" onClick={() => void model.refreshDevices().catch(() => undefined)}>
          Rescan devices
        </button>
      </div>
      {devices === null ? <p className="empty">Loading devices…</p> : null}
      <div className="device-grid">
        <DevicePicker kind="input" devices={devices?.inputs ?? []} defaultId={devices?.defaultInputId ?? null} selection={selection} onPick={(id) => void pick('input', id).catch(() => undefined)} />
        <DevicePicker kind="output" devices={devices?.outputs ?? []} defaultId={devices?.defaultOutputId ?? null} selection={selection} onPick={(id) => void pick('output', id).catch(() => undefined)} />
      </div>
      <div className="actions">
        <button type="button" className={`toggle${toneOn ? ' on' : ''}`} aria-pressed={toneOn} onClick={() => void toggleTone().catch(() => undefined)}>
          Test tone {settings ? `(${settings.testTone.frequencyHz} Hz, ${settings.testTone.levelDb} dBFS)` : ''}
        </button>
      </div>
      <h3>Input level</h3>
      <MeterCanvas model={model} channels={INPUT_METER} label="Input level" />
    </section>
  );
}
