// The desktop app's log: every engine line (`[audio]`, `[peer]`, `[playout]`, `[signal]`...) and the shell's own,
// timestamped, appended to partyline.log in the app's data folder and echoed to stderr. The file is rotated once it
// passes a size, keeping one previous file, so a long-running intercom never fills the disk.
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

export const LOG_FILE = 'partyline.log';
const MAX_BYTES = 5 * 1024 * 1024;

export type LogLine = (line: string) => void;

export function createAppLog(dir: string, options: { maxBytes?: number; echo?: (text: string) => void } = {}): LogLine {
  const file = path.join(dir, LOG_FILE);
  const maxBytes = options.maxBytes ?? MAX_BYTES;
  const echo = options.echo ?? ((text: string) => process.stderr.write(text));
  mkdirSync(dir, { recursive: true });
  let size = sizeOf(file);
  return (line) => {
    const text = `${new Date().toISOString()} ${line}\n`;
    echo(text);
    try {
      if (size + text.length > maxBytes && size > 0) {
        renameSync(file, `${file}.1`);
        size = 0;
      }
      // Synchronous on purpose: these lines come from the main thread at human rates, and a crash must not lose the
      // last ones. The media thread's hot path never waits on this; it posts its lines to us.
      appendFileSync(file, text);
      size += Buffer.byteLength(text);
    } catch {
      // A full or read-only disk must not take the intercom down; stderr still has the line.
    }
  };
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
