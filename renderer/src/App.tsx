import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { type StationModel, useSnapshot } from './model';
import { Connect } from './screens/Connect';
import { Devices } from './screens/Devices';
import { Health } from './screens/Health';
import { Keypanel } from './screens/Keypanel';
import { Meters } from './screens/Meters';
import { Updates } from './screens/Updates';

const SCREENS = [
  { id: 'connect', label: 'Connect', View: Connect },
  { id: 'devices', label: 'Devices', View: Devices },
  { id: 'keypanel', label: 'Keypanel', View: Keypanel },
  { id: 'meters', label: 'Meters', View: Meters },
  { id: 'health', label: 'Health', View: Health },
  { id: 'updates', label: 'Updates', View: Updates },
] as const;
type ScreenId = (typeof SCREENS)[number]['id'];

const CONNECTION_LABELS = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  joined: 'On air',
  reconnecting: 'Reconnecting…',
  error: 'Connection failed',
} as const;

export function App({ model }: { model: StationModel }) {
  const snapshot = useSnapshot(model);
  const [screen, setScreen] = useState<ScreenId>('connect');
  const tabRefs = useRef(new Map<ScreenId, HTMLButtonElement>());

  useEffect(() => {
    void model.refresh().catch(() => undefined);
  }, [model]);

  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    const jump = event.key === 'Home' ? 0 : event.key === 'End' ? SCREENS.length - 1 : null;
    if (step === 0 && jump === null) return;
    event.preventDefault();
    const next = SCREENS[jump ?? (index + step + SCREENS.length) % SCREENS.length];
    if (!next) return;
    setScreen(next.id);
    tabRefs.current.get(next.id)?.focus();
  };

  const connection = snapshot.state?.connection ?? 'idle';
  const active = SCREENS.find((entry) => entry.id === screen) ?? SCREENS[0];

  return (
    <div className="app">
      <header className="top">
        <h1>Partyline</h1>
        <span className="station-name">{snapshot.state?.name ?? ''}</span>
        <span className={`pill connection-${connection}`} role="status" aria-label={`Station: ${CONNECTION_LABELS[connection]}`}>
          {CONNECTION_LABELS[connection]}
        </span>
        {snapshot.link !== 'open' ? (
          <span className="pill link-problem" role="alert">
            {snapshot.link === 'unauthorized' ? 'Control link refused: open the link the station printed' : 'Reaching the station…'}
          </span>
        ) : null}
      </header>
      <nav className="tabs" role="tablist" aria-label="Screens">
        {SCREENS.map((entry, index) => (
          <button
            key={entry.id}
            ref={(element) => {
              if (element) tabRefs.current.set(entry.id, element);
            }}
            role="tab"
            type="button"
            id={`tab-${entry.id}`}
            aria-selected={entry.id === screen}
            aria-controls={`screen-${entry.id}`}
            tabIndex={entry.id === screen ? 0 : -1}
            onClick={() => setScreen(entry.id)}
            onKeyDown={(event) => onTabKey(event, index)}
          >
            {entry.label}
          </button>
        ))}
      </nav>
      <main id={`screen-${active.id}`} role="tabpanel" aria-labelledby={`tab-${active.id}`} className="screen">
        <active.View model={model} />
      </main>
      <ul className="notices" aria-live="polite">
        {snapshot.notices.map((notice) => (
          <li key={notice.id} className={`notice ${notice.level}`} role={notice.level === 'error' ? 'alert' : 'status'}>
            <span>{notice.message}</span>
            <button type="button" className="quiet" aria-label="Dismiss" onClick={() => model.dismiss(notice.id)}>
              ×
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
