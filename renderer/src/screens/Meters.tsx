import { useMemo } from 'react';
import { MeterCanvas } from '../meters/MeterCanvas';
import { type StationModel, useSnapshot } from '../model';

export function Meters({ model }: { model: StationModel }) {
  const { presence, health, state } = useSnapshot(model);
  const channels = useMemo(() => {
    const names = new Map<string, string>();
    for (const peer of health) names.set(peer.stationId, peer.name);
    for (const peer of presence) if (peer.stationId !== state?.stationId) names.set(peer.stationId, peer.name);
    return [
      { key: 'input', label: 'Input' },
      { key: 'output', label: 'Output' },
      ...[...names].map(([stationId, name]) => ({ key: stationId, label: name })),
    ];
  }, [presence, health, state?.stationId]);
  return (
    <section aria-labelledby="meters-title" className="panel">
      <h2 id="meters-title">Meters</h2>
      <p className="help">Peak level in dBFS with a peak-hold marker; the dark band is RMS.</p>
      <MeterCanvas model={model} channels={channels} label="Levels" />
    </section>
  );
}
