/**
 * The network thread's entry, started by the audio thread (network-thread.ts): werift peers and Janus lines, driven
 * by messages. Its stalls (a DTLS handshake's key generation, werift's garbage) delay packets, which the playout
 * absorbs; they never reach the devices.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { NetworkHost } from './network-host';
import type { ToNetwork } from './network-protocol';

const port = parentPort;
if (!port) throw new Error('network-worker.ts runs only as a worker thread');

// A nice value belongs to a thread on Linux, and this one inherits the audio thread's raised one: werift competes with
// the audio from below, as the main thread does (a late packet is jitter; a late device tick is a gap).
if (process.platform === 'linux' && getPriority(0) < 0) setPriority(0, 0);

const host = new NetworkHost((message, transfer) => port.postMessage(message, transfer));
port.on('message', (m: ToNetwork) => host.handle(m));
