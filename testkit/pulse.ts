/**
 * A private PulseAudio daemon for one test file: per-station virtual microphones and speakers (null sinks), signal
 * injection and recording. PortAudio reaches them through ALSA's pulse plugin, as named ALSA devices
 * `partyline_<station>_mic` / `partyline_<station>_spk` defined in a private asoundrc.
 */
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, appendFileSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { AUDIO_NICE } from '../native/bridge/priority';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SAMPLE_RATE as RATE } from '../native/audio-format';

const run = promisify(execFile);
export { RATE };

export interface StationDevices {
  /** Stable bridge ids, as listDevices() reports them: through PortAudio and ALSA's pulse plugin. */
  inputId: string;
  outputId: string;
  /** The same devices on the sound server's native protocol. */
  serverInputId: string;
  serverOutputId: string;
  /** Pulse names: inject into `micSink`, record from `speakerMonitor`. */
  micSink: string;
  speakerMonitor: string;
}

/** Extra modules and ALSA devices for a test rig beyond the per-station microphone and speaker. */
export interface PulseExtras {
  script?: string[];
  pcms?: string[];
  /** Null sinks in `script` that need their latency pinned low (see pinLatency). */
  pinSinks?: string[];
}

export class PulseHarness {
  readonly env: NodeJS.ProcessEnv;
  /** When the daemon last answered for the first time after a start (wall clock): it is back for its clients. */
  answeringAt = 0;
  private daemon: ChildProcess | undefined;
  private readonly children = new Set<ChildProcess>();

  private constructor(
    readonly dir: string,
    private readonly stations: string[],
    private readonly extra: PulseExtras,
  ) {
    this.env = {
      ...process.env,
      XDG_RUNTIME_DIR: join(dir, 'run'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      // Stations would otherwise fight over one ALSA `default`; every test names its devices.
      PULSE_SERVER: `unix:${join(dir, 'run', 'pulse', 'native')}`,
    };
  }

  static async start(stations: string[], extra: PulseExtras = {}): Promise<PulseHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'partyline-pulse-'));
    const h = new PulseHarness(dir, stations, extra);
    await h.boot();
    return h;
  }

  devices(station: string): StationDevices {
    return {
      inputId: `ALSA:partyline_${station}_mic#0`,
      outputId: `ALSA:partyline_${station}_spk#0`,
      serverInputId: `PulseAudio:${station}_mic.monitor#0`,
      serverOutputId: `PulseAudio:${station}_spk#0`,
      micSink: `${station}_mic`,
      speakerMonitor: `${station}_spk.monitor`,
    };
  }

  /** Makes this process use the private daemon (call before the bridge is first loaded). */
  adoptInThisProcess(): void {
    for (const key of ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'PULSE_SERVER'] as const) {
      process.env[key] = this.env[key];
    }
  }

  /**
   * A station's microphone and speaker appearing while everything runs, as a USB headset plugged in mid-show would:
   * new sinks in the daemon and new PCMs appended to the asoundrc, which ALSA rereads when it changes.
   */
  async plugIn(station: string): Promise<StationDevices> {
    const { modules, pcms } = stationDevices(station);
    for (const m of modules) await run('pactl', m.split(' '), { env: this.env });
    await this.pinLatency([`${station}_mic`, `${station}_spk`]);
    appendFileSync(this.asoundrc, pcms.join('\n') + '\n');
    return this.devices(station);
  }

  /** ALSA's configuration edited (a comment appended), as a user or a package changing it would: nothing else moves. */
  touchAlsaConfig(): void {
    appendFileSync(this.asoundrc, `# edited ${Date.now()}\n`);
  }

  /**
   * A sink pulled out, as a USB headset unplugged looks to the sound server: its module unloaded, so the sink and its
   * monitor go and every stream on them fails. Resolves what `plugBack` needs to load it again.
   */
  async unplug(sink: string): Promise<{ sink: string; args: string }> {
    const modules = await this.pactl('list', 'short', 'modules');
    for (const line of modules.split('\n')) {
      const [index, name, args = ''] = line.split('\t');
      if (name !== 'module-null-sink' || !new RegExp(`(^| )sink_name=${sink}( |$)`).test(args)) continue;
      await this.pactl('unload-module', index as string);
      return { sink, args };
    }
    throw new Error(`no null sink "${sink}" in:\n${modules}`);
  }

  /** The sink unplugged by `unplug` plugged in again, under its own name, pinned as at boot. */
  async plugBack(unplugged: { sink: string; args: string }): Promise<void> {
    await this.pactl('load-module', 'module-null-sink', ...unplugged.args.split(' ').filter(Boolean));
    await this.pinLatency([unplugged.sink]);
  }

  /**
   * The sound server started again on the same runtime directory after `kill`, with the same sinks, as a desktop's
   * sound server comes back after a crash: its clients must find it again by themselves.
   */
  async restart(): Promise<void> {
    const old = this.daemon;
    if (old && old.exitCode === null) {
      const exited = new Promise((r) => old.once('exit', r));
      old.stdin?.end();
      await Promise.race([exited, sleep(2000)]);
    }
    await this.boot();
  }

  private get asoundrc(): string {
    return join(this.dir, 'config', 'alsa', 'asoundrc');
  }

  private async boot(): Promise<void> {
    mkdirSync(join(this.dir, 'run'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.dir, 'config', 'alsa'), { recursive: true });
    const script = ['load-module module-native-protocol-unix auth-anonymous=1'];
    const pcms: string[] = [];
    for (const s of this.stations) {
      const devices = stationDevices(s);
      script.push(...devices.modules);
      pcms.push(...devices.pcms);
    }
    script.push(...(this.extra.script ?? []));
    pcms.push(...(this.extra.pcms ?? []));
    // A sink nobody reads, so stray default-device streams do not land on a station's devices.
    script.push(`load-module module-null-sink sink_name=nowhere rate=${RATE} channels=1`);
    script.push('set-default-sink nowhere');
    script.push('set-default-source nowhere.monitor');
    writeFileSync(join(this.dir, 'default.pa'), script.join('\n') + '\n');
    writeFileSync(this.asoundrc, pcms.join('\n') + '\n');
    // The daemon dies with this process even when it is SIGKILLed: a guard shell reads our stdin pipe, and the
    // pipe closes when we go. Otherwise orphaned daemons (and their pins) would eat the machine.
    const args = ['-n', '--daemonize=no', '--exit-idle-time=-1', '--log-target=stderr', '--log-level=error', '-F', join(this.dir, 'default.pa')];
    this.daemon = spawn('sh', ['-c', 'exec 3<&0; pulseaudio "$@" </dev/null & p=$!; (read _ <&3; kill $p 2>/dev/null) & wait $p', 'sh', ...args], {
      env: { ...this.env, HOME: this.dir },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    this.daemon.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (existsSync(join(this.dir, 'run', 'pulse', 'native'))) {
        try {
          await run('pactl', ['info'], { env: this.env });
          this.answeringAt = Date.now();
          await this.pinLatency(this.stations.flatMap((s) => [`${s}_mic`, `${s}_spk`]).concat('nowhere', ...(this.extra.pinSinks ?? [])));
          return;
        } catch {
          /* not ready yet */
        }
      }
      if (this.daemon.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`pulseaudio did not start: ${stderr}`);
  }

  /**
   * A null sink runs in 2 s blocks until a client asks for low latency, and only re-arms its timer after the block
   * it is in. ALSA's pulse plugin never asks (no ADJUST_LATENCY), so every sink gets a low-latency stream that
   * plays nothing, for its lifetime, and a suspend/resume re-arms the timer now instead of up to 2 s later.
   */
  async pinLatency(sinks: string[]): Promise<void> {
    for (const sink of sinks) {
      // The pin reads a pipe we never write: its stream holds the sink's latency but never starts, so the server
      // sends it one request and nothing more. Fed from /dev/zero, the pins of three stations cost about one core.
      const pin = spawn('pacat', ['--playback', `--device=${sink}`, '--format=s16le', `--rate=${RATE}`, '--channels=1', '--raw', '--latency-msec=5'], {
        env: this.env,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      this.children.add(pin);
    }
    await sleep(100);
    for (const sink of sinks) {
      await run('pactl', ['suspend-sink', sink, '1'], { env: this.env });
      await run('pactl', ['suspend-sink', sink, '0'], { env: this.env });
    }
  }

  /**
   * Streams PCM into a sink (a station's microphone). Resolves the returned handle at once; stop() ends it early.
   * The feed stands in for a real microphone, which never starves: pacat keeps 250 ms queued and runs at the audio
   * priority when allowed. With 10 ms, and still sometimes with 50 ms, a scheduling hiccup of pacat's on a busy
   * machine left a gap in the injected signal, which then read as a dropout of the station under test.
   */
  inject(sink: string, pcm: Int16Array, channelMap = 'mono'): { done: Promise<void>; stop: () => void } {
    const child = spawn('pacat', ['--playback', `--device=${sink}`, '--format=s16le', `--rate=${RATE}`, '--channels=1', `--channel-map=${channelMap}`, '--latency-msec=250', '--raw'], {
      env: this.env,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    raise(child.pid);
    this.children.add(child);
    child.stdin?.on('error', () => {});
    child.stdin?.end(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    const done = new Promise<void>((resolve) => child.on('exit', () => (this.children.delete(child), resolve())));
    return { done, stop: () => child.kill('SIGTERM') };
  }

  /** Records a source until stop(); resolves the samples. */
  record(source: string, channels = 1): { stop: () => Promise<Int16Array> } {
    const child = spawn('pacat', ['--record', `--device=${source}`, '--format=s16le', `--rate=${RATE}`, `--channels=${channels}`, '--latency-msec=10', '--raw'], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    raise(child.pid);
    this.children.add(child);
    const parts: Buffer[] = [];
    let received = 0;
    let firstAt = 0;
    child.stdout?.on('data', (d: Buffer) => {
      if (received === 0) firstAt = performance.now();
      received += d.length;
      parts.push(d);
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => (this.children.delete(child), resolve())));
    return {
      stop: async () => {
        // pacat dies with whatever the server still holds for it: on a loaded machine that was seconds of audio.
        // So first let the recording catch up with the time it has been running (less 100 ms), for up to 3 s.
        const bytesPerSecond = RATE * channels * 2;
        for (const until = performance.now() + 3000; performance.now() < until; ) {
          if (received > 0 && received >= ((performance.now() - firstAt) / 1000 - 0.1) * bytesPerSecond) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        child.kill('SIGTERM');
        await exited;
        const all = Buffer.concat(parts);
        const out = new Int16Array(Math.floor(all.length / 2));
        for (let i = 0; i < out.length; i++) out[i] = all.readInt16LE(i * 2);
        return out;
      },
    };
  }

  /** Stops the sound server dead (SIGSTOP), as a wedged one looks to its clients; the result resumes it. */
  freeze(): () => void {
    const pid = Number(readFileSync(join(this.dir, 'run', 'pulse', 'pid'), 'utf8').trim());
    process.kill(pid, 'SIGSTOP');
    return () => process.kill(pid, 'SIGCONT');
  }

  /** Kills the sound server outright (SIGKILL), as a crash looks to its clients. */
  kill(): void {
    const pid = Number(readFileSync(join(this.dir, 'run', 'pulse', 'pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
  }

  async pactl(...args: string[]): Promise<string> {
    return (await run('pactl', args, { env: this.env })).stdout;
  }

  async stop(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    if (this.daemon && this.daemon.exitCode === null) {
      const exited = new Promise((r) => this.daemon?.once('exit', r));
      this.daemon.stdin?.end();
      await Promise.race([exited, sleep(2000)]);
      if (this.daemon.exitCode === null) this.daemon.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A station's null sinks (as daemon script lines, which pactl also takes word by word) and its ALSA PCMs. */
function stationDevices(s: string): { modules: string[]; pcms: string[] } {
  return {
    modules: ['mic', 'spk'].map((kind) => `load-module module-null-sink sink_name=${s}_${kind} rate=${RATE} channels=1 sink_properties=device.description=${s}_${kind}`),
    pcms: [
      `pcm.partyline_${s}_mic { type pulse; device "${s}_mic.monitor"; hint { show on; description "Station ${s} microphone" } }`,
      `pcm.partyline_${s}_spk { type pulse; device "${s}_spk"; hint { show on; description "Station ${s} speaker" } }`,
    ],
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Best effort: a harness process at the audio priority, so that the machine's load lands on the stations under test. */
function raise(pid: number | undefined): void {
  try {
    if (pid !== undefined) setPriority(pid, AUDIO_NICE);
  } catch {
    // Not allowed here: the harness runs at normal priority.
  }
}
