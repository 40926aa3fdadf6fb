/**
 * The real electron/electron-main/main.ts in a child process under the stand-in for `electron`, and the orders that
 * drive it as Electron would (see electron-stand-in.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { StandInOrder } from './electron-stand-in';

export interface StandInApp {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Its exit code, once its output pipes are drained. */
  exited: Promise<number | null>;
  order<T>(o: Omit<StandInOrder, 'id'>): Promise<T>;
}

export function launchStandInApp(switches: string[] = []): StandInApp {
  const child = fork(path.join(__dirname, 'main-with-stand-in.ts'), switches, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // No sound server: the app starts without devices, which the window, IPC and control surface do not need.
    env: { ...process.env, PULSE_SERVER: 'unix:/nonexistent' },
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const waiting = new Map<number, (reply: { ok: boolean; result?: unknown; error?: string }) => void>();
  child.on('message', (m: { id: number; ok: boolean }) => waiting.get(m.id)?.(m));
  let nextId = 1;
  return {
    child,
    output: () => output,
    exited: new Promise((resolve) => child.once('close', (code) => resolve(code))),
    async order<T>(o: Omit<StandInOrder, 'id'>): Promise<T> {
      const id = nextId++;
      const reply = await new Promise<{ ok: boolean; result?: unknown; error?: string }>((resolve, reject) => {
        waiting.set(id, resolve);
        child.send({ ...o, id }, (e) => e && reject(e));
      });
      if (!reply.ok) throw new Error(`stand-in: ${reply.error}`);
      return reply.result as T;
    },
  };
}
