import type { Worker } from 'node:worker_threads';
import { BridgeError, type BridgeErrorCode } from '../../../native/bridge';
import type { Media, MediaCommand, MediaError, MediaEvent, MediaOptions, MediaResult } from './media-protocol';
import type { MediaReply, MediaRequest } from './media-worker';
import { startEngineThread } from '../engine-thread';

/**
 * The media side in a worker thread of this process, seen from the control side. A worker thread rather than a
 * process: it shares the process's PortAudio and device list, the Electron main process hosts it unchanged, and a
 * structured-clone message costs microseconds.
 */
export class WorkerMedia implements Media {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((event: MediaEvent) => void)[] = [];
  private nextId = 1;
  private exited: Error | undefined;
  private readonly gone: Promise<void>;

  constructor(options: MediaOptions) {
    // Bundled (dist/main/main.js), the media thread is a bundle of its own beside it.
    ({ worker: this.worker, gone: this.gone } = startEngineThread({ dirname: __dirname, filename: __filename }, 'media-worker', 'media', { workerData: { options } }, (e) => this.fail(e)));
    this.worker.on('message', (m: MediaReply | MediaEvent) => {
      if ('id' in m && typeof m.id === 'number' && 'ok' in m) {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(rebuild(m.error));
        return;
      }
      for (const l of this.listeners) l(m as MediaEvent);
    });
  }

  private fail(error: Error): void {
    if (this.exited) return;
    this.exited = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    for (const l of this.listeners) {
      l({ type: 'log', record: { level: 'error', component: 'media', msg: error.message } });
      l({ type: 'notice', level: 'error', message: `audio stopped: ${error.message}` });
    }
  }

  onEvent(listener: (event: MediaEvent) => void): void {
    this.listeners.push(listener);
  }

  call<C extends MediaCommand>(command: C): Promise<MediaResult<C['op']>> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, command } satisfies MediaRequest);
    });
  }

  async close(): Promise<void> {
    if (!this.exited) {
      await this.call({ op: 'close' }).catch(() => undefined);
      this.exited = new Error('the media thread was closed');
      await this.worker.terminate();
    }
    await this.gone;
  }
}

function rebuild(e: MediaError): Error {
  if (e.name === 'BridgeError') return new BridgeError(e.code as BridgeErrorCode, e.message, e.field);
  return Object.assign(new Error(e.message), { name: e.name, ...(e.code ? { code: e.code } : {}), ...(e.field ? { field: e.field } : {}) });
}
