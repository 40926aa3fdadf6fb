// Global push-to-talk keys per line, edited on the keypanel: type one ("Ctrl+F13") or press it in the field. Saved
// through settings.update, so a key that does not parse or is bound twice is shown at its row, and nothing changes;
// a saved key another application holds is shown as such (hotkeys.getState).
import { useEffect, useState, type KeyboardEvent } from 'react';
import type { HotkeyState, LineState } from '../../../electron/common/contract';
import type { StationModel } from '../model';

const MODIFIER_CODES = /^(Control|Shift|Alt|Meta|OS)(Left|Right)?$/;

/** The hotkey a key press spells, in hotkey.ts's names (KeyboardEvent.code, less its Key/Digit prefix). */
export function hotkeyOf(event: { code: string; ctrlKey: boolean; shiftKey: boolean; altKey: boolean; metaKey: boolean }): string | null {
  if (MODIFIER_CODES.test(event.code)) return null;
  const key = event.code.replace(/^Key(?=[A-Z]$)/, '').replace(/^Digit(?=\d$)/, '');
  const modifiers = [event.ctrlKey && 'Ctrl', event.shiftKey && 'Shift', event.altKey && 'Alt', event.metaKey && 'Meta'].filter(Boolean);
  return [...modifiers, key].join('+');
}

export function HotkeyEditor({ model, lines, saved }: { model: StationModel; lines: LineState[]; saved: { hotkey: string; line: string }[] }) {
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<HotkeyState | null>(null);

  const refresh = () => void model.link.api.invoke('hotkeys.getState', {}).then(setStatus, () => undefined);
  useEffect(refresh, [model]);
  useEffect(() => setDraft(Object.fromEntries(saved.map((b) => [b.line, b.hotkey]))), [saved]);

  const rows = lines.map((l) => l.line);
  const save = async () => {
    const hotkeys = rows.flatMap((line) => (draft[line]?.trim() ? [{ hotkey: draft[line].trim(), line }] : []));
    try {
      const next = await model.link.api.invoke('settings.update', { hotkeys });
      model.patch({ settings: next });
      setErrors({});
    } catch (error) {
      // The field names the binding (hotkeys.N.hotkey): shown at its line's row.
      const field = (error as { field?: string }).field ?? '';
      const index = Number(/^hotkeys\.(\d+)/.exec(field)?.[1] ?? Number.NaN);
      const line = Number.isNaN(index) ? rows[0] : hotkeys[index]?.line;
      setErrors(line ? { [line]: (error as Error).message } : {});
    }
    refresh();
  };
  const capture = (line: string) => (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Tab' || (event.key === 'Backspace' && !event.ctrlKey) || event.key === 'Delete') return;
    const hotkey = hotkeyOf(event);
    if (!hotkey || hotkey.length === 1) return; // a plain letter or digit: let it be typed
    event.preventDefault();
    setDraft((d) => ({ ...d, [line]: hotkey }));
  };

  return (
    <details className="hotkeys">
      <summary>Global hotkeys</summary>
      {status && !status.available ? <p className="banner warn">Global hotkeys are off: {status.reason}</p> : null}
      <p className="help">Held anywhere on the desktop, a line's hotkey talks on it until released. Type it (e.g. F13, Ctrl+Shift+1) or press it in the field.</p>
      <ul>
        {rows.map((line) => {
          const id = `hotkey-${line.replace(/\W+/g, '-')}`;
          const state = status?.bindings.find((b) => b.line === line);
          const problem = errors[line] ?? (state && state.state !== 'active' ? state.message : undefined);
          return (
            <li key={line}>
              <label htmlFor={id}>Hotkey for {line}</label>
              <input
                id={id}
                value={draft[line] ?? ''}
                placeholder="none"
                spellCheck={false}
                aria-invalid={problem ? true : undefined}
                aria-describedby={problem ? `${id}-problem` : undefined}
                onChange={(event) => {
                  const value = event.currentTarget.value;
                  setDraft((d) => ({ ...d, [line]: value }));
                }}
                onKeyDown={capture(line)}
              />
              {state?.state === 'active' && !errors[line] ? <span className="hotkey-ok">active</span> : null}
              {problem ? (
                <p id={`${id}-problem`} className="field-error" role="alert">
                  {problem}
                </p>
              ) : null}
            </li>
          );
        })}
      </ul>
      <button type="button" onClick={() => void save()}>
        Save hotkeys
      </button>
    </details>
  );
}
