/**
 * The logger services are given: leveled, with a child per component (`audio`, `peer`, `signal`...) and, for a
 * component about one thing, its subject (a peer's station id, a line). pino's Logger is one; the composition roots
 * make it (compose/log.ts). A record keeps its component and subject as fields, and reads as one line of text,
 * `[component subject] message`, wherever it is printed.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogBindings {
  component?: string;
  subject?: string;
}

export interface Log {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(bindings: LogBindings): Log;
}

export interface LogRecord extends LogBindings {
  level: LogLevel;
  msg: string;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** A record as one line: `[component subject] message`, or the message alone when it names no component. */
export function logLine(r: LogBindings & { msg: string }): string {
  if (!r.component) return r.msg;
  return `[${r.component}${r.subject ? ` ${r.subject}` : ''}] ${r.msg}`;
}

/**
 * A logger that hands each record to `write`, for another side to log for real: the media worker's records cross to
 * the main thread this way. Bindings merge as pino's children do, the nearer one winning.
 */
export function recordLog(write: (record: LogRecord) => void, bindings: LogBindings = {}): Log {
  const at =
    (level: LogLevel) =>
    (msg: string): void =>
      write({ ...bindings, level, msg });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => recordLog(write, { ...bindings, ...more }) };
}

/** Logs a record made elsewhere (see `recordLog`) on `log`. */
export function relayRecord(log: Log, record: LogRecord): void {
  const { level, msg, ...bindings } = record;
  const target = bindings.component || bindings.subject ? log.child(bindings) : log;
  target[LOG_LEVELS.includes(level) ? level : 'info'](msg);
}

export const silentLog: Log = recordLog(() => undefined);
