import { useEffect, useId, useRef, useState } from 'react';
import type { EngineActivity, UpdateChannel, UpdateOffer, UpdateState } from '../../../electron/common/contract';
import { type StationModel, useSnapshot } from '../model';

const CHANNELS: { id: UpdateChannel; label: string }[] = [
  { id: 'stable', label: 'Stable' },
  { id: 'beta', label: 'Beta (early releases)' },
];

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

function statusText(update: UpdateState): string {
  const version = update.offer?.version ?? '';
  switch (update.phase) {
    case 'unmanaged':
      return update.message ?? 'Updates are managed elsewhere.';
    case 'idle':
      return 'Not checked yet.';
    case 'checking':
      return 'Checking for updates…';
    case 'up-to-date':
      return `Partyline is up to date on the ${update.channel} channel.`;
    case 'available':
      return `Version ${version} is available on the ${update.channel} channel.`;
    case 'downloading':
      return `Downloading version ${version}…`;
    case 'downloaded':
      return `Version ${version} is downloaded and verified. Restart Partyline to use it.`;
    case 'error':
      return update.message ?? 'The update failed.';
  }
}

/** What the restart would cut off, in the operator's words. */
export function describeActivity(activity: EngineActivity): string {
  const parts: string[] = [];
  if (activity.latchedTalkKeys > 0) parts.push(`talk is on for ${activity.latchedTalkKeys} line${activity.latchedTalkKeys === 1 ? '' : 's'}`);
  if (activity.activeLines > 0) parts.push(`${activity.activeLines} line${activity.activeLines === 1 ? ' is' : 's are'} active`);
  return parts.join(' and ');
}

interface Question {
  offer: UpdateOffer;
  activity: EngineActivity;
}

export function Updates({ model }: { model: StationModel }) {
  const { update } = useSnapshot(model);
  const [question, setQuestion] = useState<Question | null>(null);
  const [restarting, setRestarting] = useState(false);
  const channelId = useId();

  if (!update) {
    return (
      <section aria-labelledby="updates-title" className="panel">
        <h2 id="updates-title">Updates</h2>
        <p className="empty">Loading…</p>
      </section>
    );
  }

  const managed = update.phase !== 'unmanaged';
  const busy = update.phase === 'checking' || update.phase === 'downloading';
  const apply = (next: Promise<UpdateState>) => void next.then((state) => model.patch({ update: state }), () => undefined);

  const restart = async (confirmed: boolean) => {
    setQuestion(null);
    const result = await model.run('update.restart', { confirmed });
    if (result.outcome === 'needs-confirmation') setQuestion({ offer: result.offer, activity: result.activity });
    else setRestarting(true);
  };

  return (
    <section aria-labelledby="updates-title" className="panel updates">
      <h2 id="updates-title">Updates</h2>
      <dl className="facts">
        <dt>Version</dt>
        <dd data-testid="current-version">{update.currentVersion}</dd>
      </dl>
      <div className="field">
        <label htmlFor={channelId}>Release channel</label>
        <select
          id={channelId}
          value={update.channel ?? ''}
          disabled={!managed || busy}
          onChange={(event) => apply(model.run('update.setChannel', { channel: event.currentTarget.value as UpdateChannel }))}
        >
          {managed ? null : <option value="">—</option>}
          {CHANNELS.map((channel) => (
            <option key={channel.id} value={channel.id}>
              {channel.label}
            </option>
          ))}
        </select>
      </div>
      <p className={`banner ${update.phase === 'error' ? 'error' : 'info'} update-status`} role={update.phase === 'error' ? 'alert' : 'status'} data-phase={update.phase}>
        {restarting ? 'Restarting into the new version…' : statusText(update)}
      </p>
      {update.phase === 'downloading' && update.progress ? (
        <div className="field">
          <progress className="update-progress" max={100} value={update.progress.percent} aria-label="Download progress" aria-valuetext={`${Math.round(update.progress.percent)}%`} />
          <span className="help">
            {Math.round(update.progress.percent)}% · {megabytes(update.progress.transferredBytes)} of {megabytes(update.progress.totalBytes)}
          </span>
        </div>
      ) : null}
      {update.offer?.releaseNotes && (update.phase === 'available' || update.phase === 'downloaded') ? <p className="help release-notes">{update.offer.releaseNotes}</p> : null}
      {managed ? (
        <div className="actions">
          <button type="button" disabled={busy} onClick={() => apply(model.run('update.check', {}))}>
            Check for updates
          </button>
          {update.phase === 'available' ? (
            <button type="button" className="primary" onClick={() => apply(model.run('update.download', {}))}>
              Download {update.offer?.version}
            </button>
          ) : null}
          {update.phase === 'downloaded' ? (
            <button type="button" className="primary" disabled={restarting} onClick={() => void restart(false).catch(() => undefined)}>
              Restart to update
            </button>
          ) : null}
        </div>
      ) : null}
      {question ? <ConfirmRestart question={question} onAnswer={(yes) => (yes ? void restart(true).catch(() => undefined) : setQuestion(null))} /> : null}
    </section>
  );
}

/** Restarting drops this station off the air: the safe answer has the focus, Escape declines. */
function ConfirmRestart({ question, onAnswer }: { question: Question; onAnswer: (restart: boolean) => void }) {
  const stay = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => stay.current?.focus(), []);
  return (
    <div className="dialog-backdrop">
      <div
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={`${titleId}-title`}
        aria-describedby={`${titleId}-body`}
        className="dialog"
        onKeyDown={(event) => {
          if (event.key === 'Escape') onAnswer(false);
        }}
      >
        <h3 id={`${titleId}-title`}>Restart now and go off the air?</h3>
        <p id={`${titleId}-body`}>
          Right now {describeActivity(question.activity)}. Restarting into version {question.offer.version} takes this station off every line for a
          few seconds.
        </p>
        <div className="actions">
          <button ref={stay} type="button" onClick={() => onAnswer(false)}>
            Stay on air
          </button>
          <button type="button" className="danger" onClick={() => onAnswer(true)}>
            Restart anyway
          </button>
        </div>
      </div>
    </div>
  );
}
