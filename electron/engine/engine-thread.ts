import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts one of the engine's threads from its entry beside the caller: bundled, `<entry>.js` beside the running
 * bundle; in development, `<entry>.ts` in the caller's folder, with tsx's hooks registered first (they do not reach a
 * worker's entry by themselves). `failed` hears once why it stopped; `gone` settles when it has.
 */
export function startEngineThread(
  caller: { dirname: string; filename: string },
  entry: string,
  label: string,
  options: WorkerOptions,
  failed: (error: Error) => void,
): { worker: Worker; gone: Promise<void> } {
  const bundled = join(caller.dirname, `${entry}.js`);
  const file = caller.filename.endsWith('.ts') || !existsSync(bundled) ? join(caller.dirname, `${entry}.ts`) : bundled;
  const ts = file.endsWith('.ts');
  const worker = new Worker(ts ? `require('tsx/cjs'); require(${JSON.stringify(file)});` : file, {
    ...options,
    eval: ts,
  });
  const gone = new Promise<void>((resolve) => {
    worker.on('error', (e) => failed(new Error(`the ${label} thread failed: ${e.message}`)));
    worker.on('exit', (code) => {
      failed(new Error(`the ${label} thread exited (code ${code})`));
      resolve();
    });
  });
  return { worker, gone };
}
