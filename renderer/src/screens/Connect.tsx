import { type FormEvent, useEffect, useId, useState } from 'react';
import { ConnectConfig, type ConnectConfig as ConnectConfigValue, type DiscoveredHost, type StationState } from '../../../electron/common/contract';
import { type StationModel, useSnapshot } from '../model';

interface LineRow {
  line: string;
  secret: string;
}
interface IceRow {
  urls: string;
  username: string;
  credential: string;
}
interface Form {
  mode: 'remote' | 'host';
  url: string;
  /** To trust a wss:// server's certificate explicitly (after it changed); empty: trust on first use. */
  fingerprint: string;
  port: string;
  bind: string;
  insecure: boolean;
  name: string;
  lines: LineRow[];
  ice: IceRow[];
}

const EMPTY_FORM: Form = {
  mode: 'remote',
  url: 'wss://',
  fingerprint: '',
  port: '8420',
  bind: '',
  insecure: false,
  name: '',
  lines: [{ line: '', secret: '' }],
  ice: [],
};

function formFrom(config: ConnectConfigValue | null): Form {
  if (!config) return EMPTY_FORM;
  return {
    mode: config.server.kind,
    url: config.server.kind === 'remote' ? config.server.url : EMPTY_FORM.url,
    // A fingerprint re-trusts once; the pin then lives in the station's trust store.
    fingerprint: '',
    port: config.server.kind === 'host' ? String(config.server.port) : EMPTY_FORM.port,
    bind: config.server.kind === 'host' ? (config.server.bind ?? '') : '',
    insecure: config.server.insecure ?? false,
    name: config.name,
    lines: config.lines.length > 0 ? config.lines.map(({ line, secret }) => ({ line, secret: secret ?? '' })) : EMPTY_FORM.lines,
    ice: config.iceServers.map(({ urls, username, credential }) => ({
      urls: Array.isArray(urls) ? urls.join(', ') : urls,
      username: username ?? '',
      credential: credential ?? '',
    })),
  };
}

/** What a station on air is connected to, as connect values (no secrets: the station does not report them). */
function configOf(state: StationState): ConnectConfigValue | null {
  if (state.connection === 'idle' || !state.name) return null;
  const server: ConnectConfigValue['server'] | null = state.hosting
    ? { kind: 'host', port: Number(new URL(state.hosting.url).port), ...(state.hosting.bind ? { bind: state.hosting.bind } : {}), ...(state.hosting.fingerprint ? {} : { insecure: true }) }
    : state.joined
      ? { kind: 'remote', url: state.joined.url, ...(state.joined.url.startsWith('ws:') ? { insecure: true } : {}) }
      : null;
  if (!server) return null;
  return { server, name: state.name, lines: state.lines.map(({ line }) => ({ line })), iceServers: [] };
}

/** Form fields -> the contract's ConnectConfig, with every problem keyed by its contract path. */
export function checkForm(form: Form): { config: ConnectConfigValue | null; errors: Record<string, string> } {
  const portText = form.port.trim();
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  const candidate = {
    server:
      form.mode === 'remote'
        ? { kind: 'remote', url: form.url.trim(), ...(form.fingerprint.trim() ? { fingerprint: form.fingerprint.trim() } : {}), ...(form.insecure ? { insecure: true } : {}) }
        : { kind: 'host', port, ...(form.bind.trim() ? { bind: form.bind.trim() } : {}), ...(form.insecure ? { insecure: true } : {}) },
    name: form.name,
    lines: form.lines.map(({ line, secret }) => (secret ? { line: line.trim(), secret } : { line: line.trim() })),
    iceServers: form.ice.map(({ urls, username, credential }) => {
      const list = urls.split(',').map((url) => url.trim()).filter(Boolean);
      return {
        urls: list.length === 1 ? (list[0] ?? '') : list,
        ...(username ? { username } : {}),
        ...(credential ? { credential } : {}),
      };
    }),
  };
  const result = ConnectConfig.safeParse(candidate);
  if (result.success) {
    const duplicate = result.data.lines.findIndex((entry, index) => result.data.lines.findIndex((other) => other.line === entry.line) !== index);
    if (duplicate >= 0) return { config: null, errors: { [`lines.${duplicate}.line`]: 'this line is already listed' } };
    return { config: result.data, errors: {} };
  }
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.map(String).join('.');
    const message = path === 'server.port' && Number.isNaN(port) ? 'port must be a whole number 0–65535' : issue.message;
    errors[path] ??= message;
  }
  return { config: null, errors };
}

/** Where the crew joins a station hosted here: each LAN address of this machine, and this machine's own URL. */
function Hosting({ hosting }: { hosting: NonNullable<StationState['hosting']> }) {
  const others = hosting.joinUrls ?? [];
  return (
    <div className="banner info" role="status" aria-label="Hosting">
      {others.length > 0 ? (
        <>
          <p>Hosting: other stations join at</p>
          <ul>
            {others.map((url) => (
              <li key={url}>
                <code>{url}</code>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>Hosting on {hosting.bind ?? 'this machine'} only: no other machine can reach it.</p>
      )}
      <p>
        On this machine: <code>{hosting.url}</code>
      </p>
      {hosting.fingerprint ? (
        <p>
          Certificate SHA-256: <code className="fingerprint">{hosting.fingerprint}</code>
        </p>
      ) : (
        <p>Unencrypted: line secrets travel in clear.</p>
      )}
    </div>
  );
}

/** How often the Connect screen asks for the hosts found on the LAN while it is shown and off air. */
const LAN_POLL_MS = 2000;

/** Hosts advertised on the LAN (mDNS/DNS-SD), each joined with one click. */
function LanHosts({ model, onJoin, disabled }: { model: StationModel; onJoin: (host: DiscoveredHost) => void; disabled: boolean }) {
  const [hosts, setHosts] = useState<DiscoveredHost[]>([]);
  useEffect(() => {
    let live = true;
    const ask = () =>
      // Quietly: a station without discovery answers an empty list, and a failed poll is retried, not shown.
      void model.link.api.invoke('lan.hosts', {}).then(
        (found) => live && setHosts(found.hosts),
        () => undefined,
      );
    ask();
    const timer = setInterval(ask, LAN_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [model]);
  if (hosts.length === 0) return null;
  return (
    <section className="lan-hosts" aria-label="Hosts on this network">
      <h3>On this network</h3>
      <ul>
        {hosts.map((host) => (
          <li key={host.url}>
            <button type="button" disabled={disabled} onClick={() => onJoin(host)}>
              Join {host.name}
            </button>{' '}
            <span>
              {host.lines.join(', ')} · <code>{host.url}</code>
              {host.fingerprint ? null : ' (unencrypted)'}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  return message ? (
    <p id={id} className="field-error" role="alert">
      {message}
    </p>
  ) : null;
}

export function Connect({ model }: { model: StationModel }) {
  const { state, settings } = useSnapshot(model);
  const [form, setForm] = useState<Form>(EMPTY_FORM);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [prefilled, setPrefilled] = useState(false);
  const [focusFirstError, setFocusFirstError] = useState(0);
  const uid = useId();

  // After a refused submit, take the keyboard user to the first field that needs fixing.
  useEffect(() => {
    if (focusFirstError > 0) document.querySelector<HTMLElement>('form [aria-invalid="true"]')?.focus();
  }, [focusFirstError]);

  useEffect(() => {
    if (prefilled || !settings || (!settings.connect && !state)) return;
    // On air, the form shows what the station is connected to, even if nothing was remembered (a headless station
    // started from its command line).
    setForm(formFrom(settings.connect ?? (state ? configOf(state) : null)));
    setPrefilled(true);
  }, [settings, state, prefilled]);

  const update = (change: Partial<Form>) => {
    const next = { ...form, ...change };
    setForm(next);
    if (submitted) setErrors(checkForm(next).errors);
  };

  const connected = state !== null && state.connection !== 'idle' && state.connection !== 'error';

  const connectWith = async (values: Form) => {
    setSubmitted(true);
    const { config, errors: found } = checkForm(values);
    setErrors(found);
    if (!config) {
      setFocusFirstError((count) => count + 1);
      return;
    }
    setBusy(true);
    try {
      model.patch({ state: await model.run('station.connect', config) });
    } catch {
      // model.run has shown the failure as a notice.
    } finally {
      setBusy(false);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await connectWith(form);
  };

  // One click on a host found on the LAN: its URL, the fingerprint its record carries (pinned), and its lines
  // unless the form names some already; the station name must be there.
  const joinHost = (host: DiscoveredHost) => {
    const named = form.lines.some((row) => row.line.trim() !== '');
    const next: Form = {
      ...form,
      mode: 'remote',
      url: host.url,
      fingerprint: host.fingerprint ?? '',
      insecure: host.fingerprint === null,
      lines: named ? form.lines : host.lines.map((line) => ({ line, secret: '' })),
    };
    setForm(next);
    void connectWith(next);
  };

  const disconnect = async () => {
    setBusy(true);
    try {
      model.patch({ state: await model.run('station.disconnect', {}) });
    } catch {
      // shown as a notice
    } finally {
      setBusy(false);
    }
  };

  const fieldId = (path: string) => `${uid}-${path.replace(/\./g, '-')}`;
  const errorId = (path: string) => `${fieldId(path)}-error`;
  const invalid = (path: string) => ({
    id: fieldId(path),
    'aria-invalid': errors[path] ? true : undefined,
    'aria-describedby': errors[path] ? errorId(path) : undefined,
  });

  return (
    <section aria-labelledby="connect-title" className="panel">
      <h2 id="connect-title">Connect</h2>
      {state?.connection === 'error' && state.error ? (
        <p className="banner error" role="alert">
          {state.error}
        </p>
      ) : null}
      {state?.hosting ? <Hosting hosting={state.hosting} /> : null}
      {state?.joined && state.connection !== 'idle' ? (
        <p className="banner info" role="status" aria-label="Joined">
          Connected to <code>{state.joined.url}</code>
          {state.joined.fingerprint ? (
            <>
              {' '}
              (certificate SHA-256 <code className="fingerprint">{state.joined.fingerprint}</code>)
            </>
          ) : null}
        </p>
      ) : null}
      {connected ? null : <LanHosts model={model} onJoin={joinHost} disabled={busy} />}
      <form onSubmit={submit} noValidate>
        <fieldset disabled={connected || busy}>
          <legend>Server</legend>
          <div className="radio-row" role="radiogroup" aria-label="Server">
            <label>
              <input type="radio" name="mode" checked={form.mode === 'remote'} onChange={() => update({ mode: 'remote' })} />
              Join a server
            </label>
            <label>
              <input type="radio" name="mode" checked={form.mode === 'host'} onChange={() => update({ mode: 'host' })} />
              Host on this machine
            </label>
          </div>
          {form.mode === 'remote' ? (
            <div className="field-row">
              <div className="field">
                <label htmlFor={fieldId('server.url')}>Server URL</label>
                <input {...invalid('server.url')} type="url" placeholder="wss://intercom.example:8420/" value={form.url} onChange={(e) => update({ url: e.currentTarget.value })} />
                <FieldError id={errorId('server.url')} message={errors['server.url']} />
              </div>
              <div className="field">
                <label htmlFor={fieldId('server.fingerprint')}>Certificate fingerprint (optional)</label>
                <input
                  {...invalid('server.fingerprint')}
                  spellCheck={false}
                  placeholder="trusted on first use; give it to re-trust"
                  value={form.fingerprint}
                  onChange={(e) => update({ fingerprint: e.currentTarget.value })}
                />
                <FieldError id={errorId('server.fingerprint')} message={errors['server.fingerprint']} />
              </div>
              <label className="checkbox">
                <input type="checkbox" checked={form.insecure} onChange={(e) => update({ insecure: e.currentTarget.checked })} />
                Join an unencrypted ws:// server (line secrets travel in clear)
              </label>
            </div>
          ) : (
            <div className="field-row">
              <div className="field">
                <label htmlFor={fieldId('server.port')}>Port</label>
                <input {...invalid('server.port')} inputMode="numeric" value={form.port} onChange={(e) => update({ port: e.currentTarget.value })} />
                <FieldError id={errorId('server.port')} message={errors['server.port']} />
              </div>
              <div className="field">
                <label htmlFor={fieldId('server.bind')}>Bind address (optional)</label>
                <input {...invalid('server.bind')} placeholder="0.0.0.0 (every interface)" value={form.bind} onChange={(e) => update({ bind: e.currentTarget.value })} />
                <FieldError id={errorId('server.bind')} message={errors['server.bind']} />
              </div>
              <label className="checkbox">
                <input type="checkbox" checked={form.insecure} onChange={(e) => update({ insecure: e.currentTarget.checked })} />
                Unencrypted (ws://; line secrets travel in clear)
              </label>
            </div>
          )}
        </fieldset>

        <fieldset disabled={connected || busy}>
          <legend>Station</legend>
          <div className="field">
            <label htmlFor={fieldId('name')}>Station name</label>
            <input {...invalid('name')} autoComplete="off" value={form.name} onChange={(e) => update({ name: e.currentTarget.value })} />
            <FieldError id={errorId('name')} message={errors['name']} />
          </div>
        </fieldset>

        <fieldset disabled={connected || busy}>
          <legend>Lines</legend>
          <FieldError id={errorId('lines')} message={errors['lines']} />
          {form.lines.map((row, index) => (
            <div className="field-row" key={index}>
              <div className="field">
                <label htmlFor={fieldId(`lines.${index}.line`)}>Line {index + 1}</label>
                <input
                  {...invalid(`lines.${index}.line`)}
                  value={row.line}
                  onChange={(e) => update({ lines: form.lines.map((r, i) => (i === index ? { ...r, line: e.currentTarget.value } : r)) })}
                />
                <FieldError id={errorId(`lines.${index}.line`)} message={errors[`lines.${index}.line`]} />
              </div>
              <div className="field">
                <label htmlFor={fieldId(`lines.${index}.secret`)}>Secret (optional)</label>
                <input
                  {...invalid(`lines.${index}.secret`)}
                  type="password"
                  autoComplete="off"
                  value={row.secret}
                  onChange={(e) => update({ lines: form.lines.map((r, i) => (i === index ? { ...r, secret: e.currentTarget.value } : r)) })}
                />
              </div>
              <button type="button" className="quiet" aria-label={`Remove line ${index + 1}`} onClick={() => update({ lines: form.lines.filter((_, i) => i !== index) })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="quiet" onClick={() => update({ lines: [...form.lines, { line: '', secret: '' }] })}>
            Add line
          </button>
        </fieldset>

        <fieldset disabled={connected || busy}>
          <legend>STUN / TURN</legend>
          {form.ice.length === 0 ? <p className="help">None: direct connections only (fine on one LAN).</p> : null}
          {form.ice.map((row, index) => (
            <div className="field-row" key={index}>
              <div className="field">
                <label htmlFor={fieldId(`iceServers.${index}.urls`)}>URLs (comma-separated)</label>
                <input
                  {...invalid(`iceServers.${index}.urls`)}
                  placeholder="stun:stun.example:3478"
                  value={row.urls}
                  onChange={(e) => update({ ice: form.ice.map((r, i) => (i === index ? { ...r, urls: e.currentTarget.value } : r)) })}
                />
                <FieldError id={errorId(`iceServers.${index}.urls`)} message={errors[`iceServers.${index}.urls`]} />
              </div>
              <div className="field">
                <label htmlFor={fieldId(`iceServers.${index}.username`)}>Username</label>
                <input
                  id={fieldId(`iceServers.${index}.username`)}
                  autoComplete="off"
                  value={row.username}
                  onChange={(e) => update({ ice: form.ice.map((r, i) => (i === index ? { ...r, username: e.currentTarget.value } : r)) })}
                />
              </div>
              <div className="field">
                <label htmlFor={fieldId(`iceServers.${index}.credential`)}>Credential</label>
                <input
                  id={fieldId(`iceServers.${index}.credential`)}
                  type="password"
                  autoComplete="off"
                  value={row.credential}
                  onChange={(e) => update({ ice: form.ice.map((r, i) => (i === index ? { ...r, credential: e.currentTarget.value } : r)) })}
                />
              </div>
              <button type="button" className="quiet" aria-label={`Remove ICE server ${index + 1}`} onClick={() => update({ ice: form.ice.filter((_, i) => i !== index) })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="quiet" onClick={() => update({ ice: [...form.ice, { urls: '', username: '', credential: '' }] })}>
            Add STUN/TURN server
          </button>
        </fieldset>

        <div className="actions">
          {connected ? (
            <button type="button" className="primary" onClick={() => void disconnect()} disabled={busy}>
              Disconnect
            </button>
          ) : (
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Connecting…' : 'Connect'}
            </button>
          )}
          {submitted && Object.keys(errors).length > 0 ? (
            <span className="field-error" role="status">
              Fix the highlighted fields.
            </span>
          ) : null}
        </div>
      </form>
    </section>
  );
}
