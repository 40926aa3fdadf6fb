/**
 * The signalling server alone in a process, for the control-plane figures: its CPU and event-loop stalls are then
 * its own, not the synthetic clients'. Talks to the bench over IPC: sends {url} once listening, answers 'usage'.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SignallingServer } from '../../electron/signalling/server';

export interface ServerUsage {
  cpuMs: number;
  /** The longest event-loop stall since the last 'usage', ms. */
  maxStallMs: number;
}

async function main(): Promise<void> {
  const server = new SignallingServer({ port: 0, maxLineMembers: 4096, maxConnectionsPerAddress: 4096, heartbeatMs: 60_000 });
  const { url } = await server.start();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  process.on('message', (msg) => {
    if (msg !== 'usage') return;
    const { user, system } = process.cpuUsage();
    const usage: ServerUsage = { cpuMs: (user + system) / 1000, maxStallMs: delay.max / 1e6 };
    delay.reset();
    process.send?.(usage);
  });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.send?.({ url });
}

void main();
