/**
 * The network thread's entry, started by the audio thread (network-thread.ts): werift peers and Janus lines, driven
 * by messages. Its stalls (a DTLS handshake's key generation, werift's garbage) delay packets, which the playout
 * absorbs; they never reach the devices.
 */
import { readlinkSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { NetworkHost } from './network-host';
import type { FromNetwork, ToNetwork } from './network-protocol';

const port = parentPort;
if (!port) throw new Error('network-worker.ts runs only as a worker thread');

const host = new NetworkHost((message, transfer) => port.postMessage(message, transfer));
port.on('message', (m: ToNetwork) => host.handle(m));
// A packet held up here is as late at the far end as one held up on the way: the audio thread gets this thread
// real-time scheduling below its own, as it does for itself (a nice value loses to a busy main thread).
port.postMessage({ t: 'thread', tid: kernelThreadId() } satisfies FromNetwork);

/** This thread's kernel id (Linux), or 0; from /proc, so that this thread loads neither the native binding nor rtkit's D-Bus client (currentThreadId). */
function kernelThreadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop()) || 0;
  } catch {
    return 0;
  }
}

// As the media thread does with the same switch: this thread's own event-loop delay, once a second, to the log.
if (process.env.PARTYLINE_MEDIA_PROFILE) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  setInterval(() => {
    const msg = `network loop delay max ${(h.max / 1e6).toFixed(1)} ms p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`;
    port.postMessage({ t: 'log', record: { level: 'info', component: 'profile', msg } } satisfies FromNetwork);
    h.reset();
  }, 1000);
}
