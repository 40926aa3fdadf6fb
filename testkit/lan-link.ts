/**
 * A second machine on a crew's LAN, as a network namespace joined to this one by a veth pair. Its addresses exist
 * only on that link, so reaching it proves a server listens on the LAN, not just on loopback.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
let made = 0;

export interface Lan {
  /** The namespace holding the other machine. */
  ns: string;
  /** This machine's address on the link. */
  hostAddress: string;
  /** This machine's end of the link (a veth interface): what a server that picks interfaces by name binds to. */
  hostInterface: string;
  /** The other machine's address. */
  peerAddress: string;
  /** Runs a program on the other machine. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  close(): Promise<void>;
}

export async function createLan(): Promise<Lan> {
  const tag = `${process.pid % 10000}x${made++}`;
  const ns = `pl-lan-${tag}`;
  const here = `plh${tag}`;
  const there = `plp${tag}`;
  // A /30 of its own per run: 10.201.X.Y from the pid and a counter.
  const block = ((process.pid % 60) * 4 + made) % 256;
  const subnet = `10.201.${block}`;
  const hostAddress = `${subnet}.1`;
  const peerAddress = `${subnet}.2`;
  await run('ip', ['netns', 'add', ns]);
  try {
    await run('ip', ['link', 'add', here, 'type', 'veth', 'peer', 'name', there]);
    await run('ip', ['link', 'set', there, 'netns', ns]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', here]);
    await run('ip', ['link', 'set', here, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${peerAddress}/30`, 'dev', there]);
    await run('ip', ['-n', ns, 'link', 'set', there, 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    await run('ip', ['link', 'del', here]).catch(() => undefined);
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    throw e;
  }
  return {
    ns,
    hostAddress,
    hostInterface: here,
    peerAddress,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', ns, command, ...args], options),
    close: async () => {
      // Deleting the namespace takes its end of the pair, and with it ours.
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
      await run('ip', ['link', 'del', here]).catch(() => undefined);
    },
  };
}
