// The desktop app's log: every engine line (`[audio]`, `[peer]`, `[playout]`, `[signal]`...) and the shell's own, as
// pino records (one JSON object a line, with the component the line's tag names), appended to partyline.log in the
// app's data folder and echoed to stderr as text. rotating-file-stream rotates the file once it passes a size,
// keeping one previous file (partyline.log.1), so a long-running intercom never fills the disk.
import { mkdirSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { createStream } from 'rotating-file-stream';

export const LOG_FILE = 'partyline.log';
const MAX_BYTES = 5 * 1024 * 1024;

export type LogLine = (line: string) => void;

export interface AppLog extends LogLine {
  /** The root logger, for the shell's own records; each component logs through a child of it. */
  readonly logger: Logger;
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

export function createAppLog(dir: string, options: { maxBytes?: number; echo?: (text: string) => void } = {}): AppLog {
  const echo = options.echo ?? ((text: string) => process.stderr.write(text));
  mkdirSync(dir, { recursive: true });
  const file = createStream(LOG_FILE, { path: dir, size: `${options.maxBytes ?? MAX_BYTES}B`, rotate: 1 });
  // A full or read-only disk must not take the intercom down; stderr still has the line.
  file.on('error', () => undefined);
  const logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime }, file);
  const components = new Map<string, Logger>();
  const line = (text: string): void => {
    echo(`${new Date().toISOString()} ${text}\n`);
    // The engine tags its lines `[audio] ...`, `[peer B] ...`: the tag's first word is the component.
    const component = /^\[([^\]\s]+)/.exec(text)?.[1] ?? 'app';
    let child = components.get(component);
    if (!child) components.set(component, (child = logger.child({ component })));
    child.info(text);
  };
  return Object.assign(line, {
    logger,
    close: () => new Promise<void>((resolve) => file.end(() => resolve())),
  });
}
