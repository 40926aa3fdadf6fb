// Joining a line while on air, from the keypanel: station.setLines with the lines held and the new one, so nothing
// else is disturbed. A name the contract refuses is shown here, at the field, and nothing is sent; a line the server
// refuses (a wrong secret) arrives later as a notice.
import { useState, type FormEvent } from 'react';
import type { StationModel } from '../model';
import { joining } from './line-changes';

export function JoinLine({ model, held }: { model: StationModel; held: string[] }) {
  const [name, setName] = useState('');
  const [secret, setSecret] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const join = async (event: FormEvent) => {
    event.preventDefault();
    const line = name.trim();
    if (held.includes(line)) {
      setProblem(`already on ${line}`);
      return;
    }
    setBusy(true);
    try {
      model.patch({ state: await model.link.api.invoke('station.setLines', { lines: joining(held, line, secret) }) });
      setName('');
      setSecret('');
      setProblem(null);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="line-join" aria-labelledby="line-join-title" onSubmit={(event) => void join(event)}>
      <h3 id="line-join-title">Join a line</h3>
      <div className="field-row">
        <label className="field">
          Line
          <input
            value={name}
            spellCheck={false}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'line-join-problem' : undefined}
            onChange={(event) => setName(event.currentTarget.value)}
          />
        </label>
        <label className="field">
          Secret (if it has one)
          <input
            type="password"
            value={secret}
            autoComplete="off"
            onChange={(event) => setSecret(event.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Join
        </button>
      </div>
      {problem ? (
        <p id="line-join-problem" className="field-error" role="alert">
          {problem}
        </p>
      ) : null}
      <p className="help">Joins without leaving the air: the other lines and their calls carry on.</p>
    </form>
  );
}
