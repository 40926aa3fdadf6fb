/**
 * The network thread's entry, started by the audio thread (network-thread.ts): werift peers and Janus lines, driven
 * by messages. Its stalls (a DTLS handshake's key generation, werift's garbage) delay packets, which the playout
 * absorbs; they never reach the devices.
 */
import { parentPort } from 'node:worker_threads';
import { NetworkHost } from './network-host';
import type { ToNetwork } from './network-protocol';

const port = parentPort;
if (!port) throw new Error('network-worker.ts runs only as a worker thread');

// It keeps the nice value it inherits from the audio thread (a nice value belongs to a thread on Linux): a packet
// held up here is as late at the far end as one held up on the way, and it is never asked rtkit's real-time grant.
const host = new NetworkHost((message, transfer) => port.postMessage(message, transfer));
port.on('message', (m: ToNetwork) => host.handle(m));
