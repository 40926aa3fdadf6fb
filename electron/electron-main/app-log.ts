// The desktop app's log: the station's pino records (one JSON object a line, each with its component and subject),
// appended to partyline.log in the app's data folder and echoed to stderr as the text lines the headless station
// prints. rotating-file-stream rotates the file once it passes a size, keeping one previous file (partyline.log.1),
// so a long-running intercom never fills the disk.
import { mkdirSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { createStream } from 'rotating-file-stream';
import { createLogger, textDestination } from '../compose/log';

export const LOG_FILE = 'partyline.log';
const MAX_BYTES = 5 * 1024 * 1024;

export interface AppLog extends Logger {
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

export function createAppLog(dir: string, options: { maxBytes?: number; echo?: (text: string) => void } = {}): AppLog {
  const echo = options.echo ?? ((text: string) => process.stderr.write(text));
  mkdirSync(dir, { recursive: true });
  const file = createStream(LOG_FILE, { path: dir, size: `${options.maxBytes ?? MAX_BYTES}B`, rotate: 1 });
  // A full or read-only disk must not take the intercom down; stderr still has the line.
  file.on('error', () => undefined);
  const text = textDestination((line, record) => echo(`${record.time ?? new Date().toISOString()} ${line}\n`));
  const logger = createLogger(
    pino.multistream([
      { stream: file, level: 'debug' },
      { stream: text, level: 'debug' },
    ]),
  );
  return Object.assign(logger, {
    close: () => new Promise<void>((resolve) => file.end(() => resolve())),
  });
}
