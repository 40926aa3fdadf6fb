/**
 * A small network of Linux network namespaces for one test: a switch (a bridge in a namespace of its own, `mid`) and
 * one namespace per host, each joined to the switch by a veth pair, with addresses that exist only inside them.
 * Processes run in a host with `spawnIn`; a host's cable is pulled at the switch with `cut` (its own interface stays
 * up, as when a switch port or the cable beyond it fails), and put back with `restore`.
 *
 * Everything is named after a per-run prefix, so concurrent or leftover runs never collide, and removed by `close`.
 * `NetLab.create` throws NetnsUnavailable (with the reason) where namespaces cannot be made: tests skip on it.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class NetnsUnavailable extends Error {
  override readonly name = 'NetnsUnavailable';
}

export interface Host {
  name: string;
  /** The namespace's name, for `ip netns exec`. */
  ns: string;
  /** Its address on the switch. */
  address: string;
  /** The switch side of its cable (in `mid`). */
  port: string;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

export class NetLab {
  readonly hosts = new Map<string, Host>();
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();

  private constructor(
    readonly prefix: string,
    /** The switch's namespace; the switch itself has `mid.address` on the bridge, for a relay placed there. */
    readonly mid: Host,
  ) {}

  /** A switch and the named hosts (a few letters each), 10.R.0.1.. on a /24 with R random per run. */
  static async create(hostNames: string[]): Promise<NetLab> {
    const prefix = `pl${randomBytes(3).toString('hex')}`;
    const subnet = `10.${100 + (randomBytes(1)[0] ?? 0) % 150}.0`;
    const midNs = `${prefix}-mid`;
    try {
      await ip('netns', 'add', midNs);
    } catch (e) {
      throw new NetnsUnavailable(`cannot make a network namespace (ip netns add): ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
    }
    const lab = new NetLab(prefix, { name: 'mid', ns: midNs, address: `${subnet}.254`, port: 'br0' });
    lab.namespaces.push(midNs);
    try {
      await ip('-n', midNs, 'link', 'set', 'lo', 'up');
      await ip('-n', midNs, 'link', 'add', 'br0', 'type', 'bridge');
      await ip('-n', midNs, 'addr', 'add', `${subnet}.254/24`, 'dev', 'br0');
      await ip('-n', midNs, 'link', 'set', 'br0', 'up');
      let i = 1;
      for (const name of hostNames) {
        const ns = `${prefix}-${name}`;
        await ip('netns', 'add', ns);
        lab.namespaces.push(ns);
        const port = `p-${name}`;
        // Created in `mid` with the host's end moved into the host: interface names only need to be unique per namespace.
        await ip('-n', midNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        await ip('-n', midNs, 'link', 'set', port, 'master', 'br0');
        await ip('-n', midNs, 'link', 'set', port, 'up');
        const address = `${subnet}.${i++}`;
        await ip('-n', ns, 'link', 'set', 'lo', 'up');
        await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
        await ip('-n', ns, 'link', 'set', 'eth0', 'up');
        lab.hosts.set(name, { name, ns, address, port });
      }
    } catch (e) {
      await lab.close();
      throw new NetnsUnavailable(`cannot wire the namespaces: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
    }
    return lab;
  }

  host(name: string): Host {
    const h = name === 'mid' ? this.mid : this.hosts.get(name);
    if (!h) throw new Error(`no host "${name}" in this lab (hosts: ${[...this.hosts.keys()].join(', ')})`);
    return h;
  }

  /** Runs `command` inside a host's namespace; the process is killed by `close` if still running. */
  spawnIn(name: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.host(name).ns, command, ...args], options);
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Pulls a host's cable at the switch: nothing passes either way until `restore`. */
  async cut(name: string): Promise<void> {
    await ip('-n', this.mid.ns, 'link', 'set', this.host(name).port, 'down');
  }

  async restore(name: string): Promise<void> {
    await ip('-n', this.mid.ns, 'link', 'set', this.host(name).port, 'up');
  }

  async close(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    for (const ns of this.namespaces.reverse()) await ip('netns', 'del', ns).catch(() => undefined);
    this.namespaces.length = 0;
  }
}
