/**
 * The media thread's entry: a MediaEngine driven by messages from the control side (worker-media.ts). It runs in a
 * worker thread of its own, so a busy or stalled main thread (GC, a werift burst elsewhere, an IPC flood, a slow
 * require) never holds up what the devices need.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MediaEngine } from './media-engine';
import type { MediaCommand, MediaError, MediaOptions } from './media-protocol';

export interface MediaRequest {
  id: number;
  command: MediaCommand;
}

export type MediaReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: MediaError };

const port = parentPort;
if (!port) throw new Error('media-worker.ts runs only as a worker thread');

const engine = new MediaEngine((workerData as { options: MediaOptions }).options);
engine.onEvent((event) => port.postMessage(event));

if (process.env.PARTYLINE_MEDIA_PROFILE) {
  const { monitorEventLoopDelay } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  setInterval(() => {
    port.postMessage({ type: 'log', record: { level: 'info', component: 'profile', msg: `media loop delay max ${(h.max / 1e6).toFixed(1)} ms p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms` } });
    h.reset();
  }, 1000);
}

port.on('message', (request: MediaRequest) => {
  engine.call(request.command).then(
    (result) => port.postMessage({ id: request.id, ok: true, result } satisfies MediaReply),
    (e: unknown) => {
      const err = e as Error & { code?: string; field?: string };
      const error: MediaError = { name: err.name ?? 'Error', message: err.message ?? String(e), ...(err.code ? { code: err.code } : {}), ...(err.field ? { field: err.field } : {}) };
      port.postMessage({ id: request.id, ok: false, error } satisfies MediaReply);
    },
  );
});
