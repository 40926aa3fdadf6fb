/**
 * A real Janus Gateway for a test or a bench: its own process, with a config generated in a temp dir that loads only
 * the plugins asked for and the WebSocket transport on a free loopback port (secure, wss://, when given a certificate
 * and key), ICE on loopback only, no STUN or NAT.
 * `start` waits until the WebSocket answers; `stop` ends it (SIGTERM, then SIGKILL) and removes the dir. Its output is
 * kept: `log()` for a failing test to print.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { freePort } from './free-port';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const LIB = '/usr/lib/x86_64-linux-gnu/janus';

export type JanusPlugin = 'videoroom' | 'audiobridge';

export interface JanusOptions {
  plugins?: JanusPlugin[];
  /** The address to serve the WebSocket API on: loopback, or this machine's end of a LAN link. Default 127.0.0.1. */
  host?: string;
  /** ICE interface enforce list; default `lo`. */
  iceInterface?: string;
  /** The WebSocket port; default a free one (8188 inside a namespace). Give the old one to restart "the same" Janus. */
  port?: number;
  /** The VideoRoom admin_key; default a random one. */
  adminKey?: string;
  /** Serve wss:// (and no plain ws://) on `port` with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Run the process through this prefix (e.g. `ip netns exec NAME`). */
  prefix?: string[];
  debugLevel?: number;
}

export interface JanusProcess {
  url: string;
  port: number;
  adminKey: string;
  pid: number;
  log(): string;
  /** Ends it with SIGKILL, as a crash would. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export { freePort };

export function janusInstalled(): boolean {
  return existsSync('/usr/bin/janus') && existsSync(path.join(LIB, 'plugins', 'libjanus_videoroom.so'));
}

function jcfg(sections: Record<string, Record<string, string | number | boolean>>): string {
  return Object.entries(sections)
    .map(([name, fields]) => `${name}: {\n${Object.entries(fields).map(([k, v]) => `  ${k} = ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`).join('\n')}\n}\n`)
    .join('');
}

export async function startJanus(options: JanusOptions = {}): Promise<JanusProcess> {
  if (!janusInstalled()) throw new Error('janus is not installed (apt-get install janus)');
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (options.prefix ? 8188 : await freePort(host));
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-janus-'));
  const adminKey = options.adminKey ?? randomBytes(12).toString('hex');
  for (const sub of ['conf', 'plugins', 'transports', 'none']) mkdirSync(path.join(dir, sub));
  for (const plugin of options.plugins ?? ['videoroom']) symlinkSync(path.join(LIB, 'plugins', `libjanus_${plugin}.so`), path.join(dir, 'plugins', `libjanus_${plugin}.so`));
  symlinkSync(path.join(LIB, 'transports', 'libjanus_websockets.so'), path.join(dir, 'transports', 'libjanus_websockets.so'));
  // A random RTP range per instance: several Janus processes (and other suites' peers) share this machine.
  const rtpBase = 20000 + 200 * Math.floor(Math.random() * 200);
  const conf = path.join(dir, 'conf');
  writeFileSync(
    path.join(conf, 'janus.jcfg'),
    jcfg({
      general: {
        configs_folder: conf,
        plugins_folder: path.join(dir, 'plugins'),
        transports_folder: path.join(dir, 'transports'),
        events_folder: path.join(dir, 'none'),
        loggers_folder: path.join(dir, 'none'),
        debug_level: options.debugLevel ?? 4,
        server_name: 'partyline-test',
        session_timeout: 60,
      },
      media: { rtp_port_range: `${rtpBase}-${rtpBase + 199}` },
      nat: { ice_enforce_list: options.iceInterface ?? 'lo', nice_debug: false },
      plugins: {},
      transports: {},
      events: { broadcast: false },
    }),
  );
  let transport: Record<string, string | number | boolean> = { json: 'compact', ws: true, ws_port: port, ws_ip: host, wss: false };
  const certificates: Record<string, string> = {};
  if (options.tls) {
    transport = { json: 'compact', ws: false, wss: true, wss_port: port, wss_ip: host };
    certificates.cert_pem = path.join(conf, 'wss-cert.pem');
    certificates.cert_key = path.join(conf, 'wss-key.pem');
    writeFileSync(certificates.cert_pem, options.tls.cert);
    writeFileSync(certificates.cert_key, options.tls.key, { mode: 0o600 });
  }
  writeFileSync(path.join(conf, 'janus.transport.websockets.jcfg'), jcfg({ general: transport, admin: { admin_ws: false, admin_wss: false }, ...(options.tls ? { certificates } : {}) }));
  writeFileSync(path.join(conf, 'janus.plugin.videoroom.jcfg'), jcfg({ general: { admin_key: adminKey, string_ids: false } }));
  writeFileSync(path.join(conf, 'janus.plugin.audiobridge.jcfg'), jcfg({ general: { admin_key: adminKey } }));

  const args = ['-C', path.join(conf, 'janus.jcfg'), '-F', conf, '-o'];
  const [cmd, ...rest] = options.prefix ? [...options.prefix, 'janus', ...args] : ['janus', ...args];
  const child: ChildProcess = spawn(cmd as string, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));

  const url = `${options.tls ? 'wss' : 'ws'}://${host}:${port}/`;
  // In a namespace of its own this process may not reach it: its log says when it listens.
  const ready = options.prefix ? await waitForLog(() => output, /WebSockets transport plugin initialized/, exited, 10_000) : await waitForWebSocket(url, exited, 10_000);
  if (!ready) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`janus did not come up on ${url}:\n${output.slice(-4000)}`);
  }

  const end = async (signal: NodeJS.Signals) => {
    if (!gone) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  return {
    url,
    port,
    adminKey,
    pid: child.pid ?? 0,
    log: () => output,
    crash: () => end('SIGKILL'),
    stop: async () => {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForLog(output: () => string, pattern: RegExp, exited: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !dead) {
    if (pattern.test(output())) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function waitForWebSocket(url: string, exited: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !dead) {
    const ok = await new Promise<boolean>((resolve) => {
      // Up is up: whether its certificate is to be trusted is for the test to say.
      const ws = new WebSocket(url, 'janus-protocol', { rejectUnauthorized: false });
      ws.once('open', () => {
        ws.close();
        resolve(true);
      });
      ws.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
