/** A headless station in its own process, started exactly as `npm run station` starts it, driven over its control API. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { sleep } from './pulse';

const ROOT = join(__dirname, '..');

// A station a test left running must not outlive the test file's process: killed as that process exits. (A root
// `after` hook would run before the file's own hooks and kill stations they are about to stop cleanly.)
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class StationProcess {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<string>;
  private control: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (msg: { ok: boolean; output?: unknown; error?: { code: string; message: string; field?: string } }) => void>();
  /** Control API events as they arrived, with the wall-clock time of each. */
  readonly events: { event: string; payload: unknown; at: number }[] = [];

  /** `netns`: run inside that network namespace (`ip netns exec`, which execs node in place: signals reach it). */
  constructor(args: string[], env: NodeJS.ProcessEnv, readonly label = args[args.indexOf('--name') + 1] ?? 'station', netns?: string) {
    // Tests stay on loopback and their own namespaces: no mDNS on the machine's LAN unless a test asks for it.
    const lan = args.includes('--lan-discovery') ? [] : ['--lan-discovery', 'off'];
    const argv = [process.execPath, '--env-file=electron/cli/station.env', '--import', 'tsx', 'electron/cli/station.ts', ...lan, ...args];
    const [command, ...rest] = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
    this.child = spawn(command as string, rest, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const l of parts) {
        if (/^ALSA lib|Jack|jack|^Cannot connect|^connect\(|^Expression/.test(l)) continue;
        this.lines.push(l);
        if (process.env.PARTYLINE_TEST_VERBOSE) process.stderr.write(`[${this.label}] ${l}\n`);
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    running.add(this.child);
    this.exited = new Promise((r) =>
      this.child.on('exit', (code, signal) => {
        running.delete(this.child);
        r(signal ?? String(code));
      }),
    );
  }

  /** The station's process id (with a netns, `ip netns exec` execs node in place, so still the station's). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How it ended, once it did by itself (an exit code, or the signal's name). */
  ended(): Promise<string> {
    return this.exited;
  }

  /** Its last log lines, for a failure message: how a station that did not exit cleanly got there. */
  tail(n = 8): string {
    return this.lines.slice(-n).join(' | ');
  }

  /** Its last audio, playout and peer log lines: what a station said about the sound it made or heard. */
  audioTrouble(n = 12): string {
    return `${this.label}: ${this.lines.filter((l) => /\[(audio|playout|peer [^\]]+)\]/.test(l)).slice(-n).join(' | ') || 'nothing logged'}`;
  }

  async waitFor(pattern: RegExp, timeoutMs = 15000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      for (const l of this.lines) {
        const m = pattern.exec(l);
        if (m) return m;
      }
      if (Date.now() > until) throw new Error(`${this.label}: no line matching ${pattern} in:\n${this.lines.slice(-30).join('\n')}`);
      if (this.child.exitCode !== null) throw new Error(`${this.label} exited (${this.child.exitCode}) before ${pattern}:\n${this.lines.slice(-30).join('\n')}`);
      await sleep(50);
    }
  }

  /** HOST:PORT where a hosting station is joined at `address` (one of this machine's, such as its end of a LAN link). */
  async hostedAt(address: string): Promise<string> {
    const joinAt = (await this.waitFor(/others join at (.*)$/))[1]?.split(' ') ?? [];
    const url = joinAt.find((u) => u.includes(`//${address}:`));
    if (!url) throw new Error(`${this.label} offers no URL on ${address} among those it says others join at: ${joinAt.join(' ')}`);
    return new URL(url).host;
  }

  /** The control WebSocket (requires --ui). */
  async connectControl(): Promise<void> {
    const m = await this.waitFor(/Control surface: http:\/\/([^/]+)\/#token=(\S+)/);
    const ws = new WebSocket(`ws://${m[1]}/control?token=${m[2]}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; event?: string; payload?: unknown; ok: boolean };
      if (msg.id !== undefined) this.pending.get(msg.id)?.(msg as never);
      else if (msg.event) this.events.push({ event: msg.event, payload: msg.payload, at: Date.now() });
    });
    this.control = ws;
  }

  async invoke(cmd: string, input: unknown = {}): Promise<unknown> {
    if (!this.control) await this.connectControl();
    const id = this.nextId++;
    const reply = new Promise<{ ok: boolean; output?: unknown; error?: { code: string; message: string; field?: string } }>((r) => this.pending.set(id, r));
    this.control?.send(JSON.stringify({ id, cmd, input }));
    const msg = await Promise.race([reply, sleep(20_000).then(() => undefined)]);
    this.pending.delete(id);
    if (!msg) throw new Error(`${this.label}: no reply to ${cmd} within 20 s:\n${this.tail(30)}`);
    if (!msg.ok) throw Object.assign(new Error(msg.error?.message), msg.error);
    return msg.output;
  }

  async stop(): Promise<string> {
    this.control?.close();
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    const how = await Promise.race([this.exited, sleep(8000).then(() => 'hung')]);
    if (how === 'hung') this.child.kill('SIGKILL');
    return how;
  }
}

/** Stops every station, a hung or failed one included, and only then asserts that each exited cleanly. */
export async function stopStations(stations: StationProcess[]): Promise<void> {
  const ends = await Promise.all(stations.map((s) => s.stop()));
  stations.forEach((s, i) => assert.equal(ends[i], '0', `${s.label} exits cleanly (last lines: ${s.tail()})`));
}
