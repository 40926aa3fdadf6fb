import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A scavenge shares its work with the V8 platform's helper threads and waits for them. The media thread runs at
 * SCHED_RR, the helpers at a nice value that another scheduling group (a browser starting) can hold off: so each
 * isolate scavenges on its own thread. Only a flag a collection reads at its start may change at run time: one a
 * concurrent phase reads (concurrent marking) changed while that phase runs aborts V8.
 */
function scavengeOnOwnThread(): void {
  setFlagsFromString('--no-parallel-scavenge');
}

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
  scavengeOnOwnThread();
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
