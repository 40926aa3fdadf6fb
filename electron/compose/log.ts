// The station's loggers, made by the entry points: pino records, printed as the text lines the headless station has
// always written (`HH:MM:SS.mmm [component subject] message`), and, in the desktop app, also kept as JSON in a file
// (electron-main/app-log.ts).
import pino, { type DestinationStream, type Logger } from 'pino';
import { logLine, type Log, type LogRecord } from '../common/log';

const LEVEL_NAMES: Record<number, LogRecord['level']> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };

/** A pino destination that turns each JSON record into one text line for `write`. */
export function textDestination(write: (line: string, record: LogRecord & { time?: string }) => void): DestinationStream {
  return {
    write(json: string) {
      const o = JSON.parse(json) as { level: number; msg?: string; component?: string; subject?: string; time?: string };
      const record = { level: LEVEL_NAMES[o.level] ?? 'info', msg: o.msg ?? '', ...(o.component ? { component: o.component } : {}), ...(o.subject ? { subject: o.subject } : {}), ...(o.time ? { time: o.time } : {}) };
      write(logLine(record), record);
    },
  };
}

/** A root logger over `destination`, at `level` and above (PARTYLINE_LOG_LEVEL, else info). */
export function createLogger(destination: DestinationStream, level = process.env.PARTYLINE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ base: null, level, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** The headless station's and signalling server's log: text lines on stdout, each with its time of day. */
export function stdoutLog(): Log {
  return createLogger(textDestination((line, r) => process.stdout.write(`${(r.time ?? new Date().toISOString()).slice(11, 23)} ${line}\n`)));
}

/** A logger whose records arrive as text lines (`[component subject] message`), for a test to read. */
export function linesLog(write: (line: string) => void, level = 'debug'): Log {
  return createLogger(
    textDestination((line) => write(line)),
    level,
  );
}
