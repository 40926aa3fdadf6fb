// Real-time scheduling of the audio threads: set directly where the process may, and through rtkit as a desktop user
// gets it: refused with a reason where there is no rtkit (the margin then covers the scheduler), and granted by a real
// rtkit on a private system bus where the machine has one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PulseHarness, sleep } from '../testkit/pulse';
import { tone } from '../testkit/signal';
import { StationProcess } from '../testkit/station-process';

let pulse: PulseHarness;
let bridge: typeof import('../native/bridge');
let realtime: typeof import('../native/bridge/realtime');

before(async () => {
  pulse = await PulseHarness.start(['x']);
  pulse.adoptInThisProcess();
  bridge = require('../native/bridge') as typeof import('../native/bridge');
  realtime = require('../native/bridge/realtime') as typeof import('../native/bridge/realtime');
});
after(async () => {
  await pulse?.stop();
});

/** A speaker on the sound server's own protocol playing a tone, with its device thread running. */
async function playingSpeaker() {
  let at = 0;
  const played = tone(1000, 2, -12);
  const playback = new bridge.PlaybackStream({ deviceId: pulse.devices('x').serverOutputId, source: { pull: (n) => played.subarray(at, (at += n)) } });
  await sleep(300);
  return playback;
}

/** Runs `body` with this process pointed at another system bus, and points it back after. */
async function onSystemBus(address: string, body: () => Promise<void>): Promise<void> {
  const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = address;
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
  }
}

/** Scheduling policy and real-time priority of one of this process's threads (fields 41 and 40 of its stat). */
function scheduling(tid: number): { policy: number; rtPriority: number } {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command start at field 3: rt_priority is field 40, policy field 41.
  return { rtPriority: Number(fields[40 - 3]), policy: Number(fields[41 - 3]) };
}

test('no rtkit on the system bus: refused with the reason, and the speaker plays on at normal scheduling', async () => {
  await onSystemBus(`unix:path=${join(tmpdir(), 'partyline-no-such-bus')}`, async () => {
    const kit = await realtime.RealtimeKit.connect();
    assert.match(kit.why ?? '', /no system D-Bus|ENOENT|rtkit/, `the reason: ${kit.why}`);
    const playback = await playingSpeaker();
    try {
      assert.ok(playback.deviceThreadId > 0, 'the speaker knows its device thread');
      const grant = await kit.realtime('speaker', playback.deviceThreadId);
      assert.ok('refused' in grant && grant.refused === kit.why, realtime.describeGrant(grant));
      assert.equal(realtime.describeGrant(grant), `speaker thread ${playback.deviceThreadId}: not raised (${kit.why})`);
      assert.equal(scheduling(playback.deviceThreadId).policy, 0, 'still SCHED_OTHER');
      assert.ok(playback.counters.chunks > 20, 'the speaker kept playing');
    } finally {
      await playback.stop();
      kit.close();
    }
  });
});

test("set directly where this process may: a device thread gets SCHED_RR without rtkit; where it may not, the kernel's reason", async () => {
  const rtprio = spawnSync('sh', ['-c', 'ulimit -r'], { encoding: 'utf8' }).stdout.trim();
  const allowed = process.getuid?.() === 0 || rtprio === 'unlimited' || Number(rtprio) >= 5;
  const playback = await playingSpeaker();
  try {
    const tid = playback.deviceThreadId;
    const grant = realtime.realtimeDirect('speaker', tid);
    if (allowed) {
      assert.equal(realtime.describeGrant(grant), `speaker thread ${tid}: SCHED_RR 5, set directly`);
      assert.deepEqual(scheduling(tid), { policy: 2, rtPriority: 5 }, 'SCHED_RR at 5, as rtkit would give');
      const before = playback.counters.chunks;
      await sleep(300);
      assert.ok(playback.counters.chunks > before + 10, 'the speaker plays on');
    } else {
      assert.ok('refused' in grant && /sched_setscheduler\(SCHED_RR 5\) refused: Operation not permitted/.test(grant.refused), realtime.describeGrant(grant));
      assert.equal(scheduling(tid).policy, 0, 'still SCHED_OTHER');
    }
  } finally {
    await playback.stop();
  }
  // A process that may not (no CAP_SYS_NICE, RLIMIT_RTPRIO 0): refused, and the reason is the kernel's. Still root,
  // so that it can read a checkout only root may.
  if (process.getuid?.() === 0 && spawnSync('which', ['setpriv']).status === 0) {
    const script = "const pa = require(process.argv[1]); try { pa.makeRealtime(pa.threadId(), 5); console.log('granted'); } catch (e) { console.log(e.code + ': ' + e.message); }";
    const binding = join(__dirname, '..', 'native', 'portaudio', 'build', 'Release', 'partyline_portaudio.node');
    const child = spawnSync('sh', ['-c', 'ulimit -r 0 && exec "$@"', 'sh', 'setpriv', '--inh-caps=-all', '--bounding-set=-all', process.execPath, '-e', script, binding], { encoding: 'utf8' });
    assert.equal(child.stdout.trim(), 'realtime-refused: sched_setscheduler(SCHED_RR 5) refused: Operation not permitted', child.stderr);
  }
});

const RTKIT_DAEMON = ['/usr/libexec/rtkit-daemon', '/usr/lib/rtkit/rtkit-daemon'].find((f) => existsSync(f));

test('a real rtkit: the speaker\'s device thread gets SCHED_RR, the calling thread a raised nice value', { skip: !RTKIT_DAEMON || spawnSync('which', ['dbus-daemon']).status !== 0 ? 'rtkit-daemon or dbus-daemon is not installed' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'partyline-bus-'));
  const socket = join(dir, 'system_bus_socket');
  // A private system bus with the system's own policies (rtkit's among them), so nothing here touches the real one.
  writeFileSync(
    join(dir, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${socket}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
<includedir>/usr/share/dbus-1/system.d</includedir></busconfig>`,
  );
  const children: ChildProcess[] = [];
  try {
    children.push(spawn('dbus-daemon', ['--config-file', join(dir, 'bus.conf'), '--nofork', '--nopidfile'], { stdio: 'ignore' }));
    for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(50);
    const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` };
    const daemon = spawn(RTKIT_DAEMON as string, ['--stderr', '--no-canary', '--no-drop-privileges', '--no-chroot'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(daemon);
    let said = '';
    daemon.stdout?.on('data', (d: Buffer) => (said += d.toString()));
    daemon.stderr?.on('data', (d: Buffer) => (said += d.toString()));
    await onSystemBus(env.DBUS_SYSTEM_BUS_ADDRESS, async () => {
      let kit = await realtime.RealtimeKit.connect();
      for (let i = 0; i < 20 && kit.why; i++) {
        kit.close();
        await sleep(100);
        kit = await realtime.RealtimeKit.connect();
      }
      if (kit.why) {
        t.skip(`rtkit would not run here: ${kit.why}; it said: ${said.trim().split('\n').slice(-3).join(' | ')}`);
        return;
      }
      const playback = await playingSpeaker();
      try {
        const grant = await kit.realtime('speaker', playback.deviceThreadId);
        t.diagnostic(`${realtime.describeGrant(grant)}; rtkit said: ${said.trim().split('\n').slice(-2).join(' | ')}`);
        if ('refused' in grant && /PolicyKit call failed/.test(said)) {
          // Debian's rtkit asks PolicyKit, which this machine does not run: the refusal path above is what it tests.
          assert.equal(scheduling(playback.deviceThreadId).policy, 0, 'refused, and still SCHED_OTHER');
          t.skip(`rtkit answered, but refused without PolicyKit: ${grant.refused}`);
          return;
        }
        assert.ok('granted' in grant, realtime.describeGrant(grant));
        const now = scheduling(playback.deviceThreadId);
        assert.equal(now.policy, 2, 'SCHED_RR');
        assert.equal(now.rtPriority, Number(/\d+/.exec(grant.granted)?.[0]), 'at the priority granted');
        const self = realtime.currentThreadId();
        const high = await kit.highPriority('media', self);
        assert.ok('granted' in high, realtime.describeGrant(high));
      } finally {
        await playback.stop();
        kit.close();
      }
    });
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Whether this process may set SCHED_RR itself (root, or an RLIMIT_RTPRIO of 5 or more). */
function mayBeRealtime(): boolean {
  const rtprio = spawnSync('sh', ['-c', 'ulimit -r'], { encoding: 'utf8' }).stdout.trim();
  return process.getuid?.() === 0 || rtprio === 'unlimited' || Number(rtprio) >= 5;
}

test('a real-time JavaScript thread that runs past the soft RLIMIT_RTTIME goes back to its nice value, alone, and the process lives on', { skip: process.platform !== 'linux' || !mayBeRealtime() ? 'this process may not set SCHED_RR' : false }, () => {
  // In a process of its own: the limit and the SIGXCPU handler are the process's. The worker spins 400 ms at
  // SCHED_RR 4: past the soft limit (100 ms) SIGXCPU must demote it before the hard one (200 ms) kills the process.
  // The main thread, guarded and real-time too (as the media thread is beside the network thread), waits meanwhile:
  // it stays real-time.
  const binding = join(__dirname, '..', 'native', 'portaudio', 'build', 'Release', 'partyline_portaudio.node');
  const worker = `
    const { parentPort } = require('node:worker_threads');
    const fs = require('node:fs');
    const pa = require(${JSON.stringify(binding)});
    const tid = pa.threadId();
    const policy = () => { const s = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return 'policy ' + f[41 - 3] + ' priority ' + f[40 - 3]; };
    pa.limitRealtime(200000);
    pa.guardRealtime(tid);
    pa.makeRealtime(tid, 4);
    const before = policy();
    const end = Date.now() + 400;
    while (Date.now() < end);
    parentPort.postMessage({ before, after: policy(), demotions: pa.realtimeDemotions() });`;
  const script = `
    const { Worker } = require('node:worker_threads');
    const fs = require('node:fs');
    const pa = require(${JSON.stringify(binding)});
    const tid = pa.threadId();
    pa.limitRealtime(200000);
    pa.guardRealtime(tid);
    pa.makeRealtime(tid, 4);
    const s = () => { const t = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'); const f = t.slice(t.lastIndexOf(')') + 2).split(' '); return 'policy ' + f[41 - 3] + ' priority ' + f[40 - 3]; };
    new Worker(${JSON.stringify(worker)}, { eval: true }).on('message', (m) => console.log(JSON.stringify({ ...m, waiting: s() })));`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(child.signal, null, `the process was not killed (${child.stderr})`);
  assert.equal(child.status, 0, child.stderr);
  const soft = spawnSync('sh', ['-c', 'exec "$@"', 'sh', process.execPath, '-e', `require(${JSON.stringify(binding)}).limitRealtime(200000); console.log(require('node:fs').readFileSync('/proc/self/limits', 'utf8'))`], { encoding: 'utf8' });
  assert.match(soft.stdout, /Max realtime timeout\s+100000\s+200000\s+us/, 'soft limit half the hard one');
  assert.deepEqual(JSON.parse(child.stdout), { before: 'policy 2 priority 4', after: 'policy 0 priority 0', demotions: 1, waiting: 'policy 2 priority 4' });
});

test("a station's media thread runs at SCHED_RR 4, below its device threads at 5, its network thread at 3 except while a peer is set up, and every other thread but the main one at nice -11", { skip: process.platform !== 'linux' || !mayBeRealtime() ? 'this process may not set SCHED_RR' : false }, async () => {
  // ALSA's devices: its pulse plugin starts client threads of its own inside the media thread's stream open.
  const d = pulse.devices('x');
  const station = new StationProcess(['--name', 'X', '--host', '--port', '0', '--insecure', '--line', 'main:s3cret', '--input', d.inputId, '--output', d.outputId], pulse.env);
  try {
    const media = Number((await station.waitFor(/\[audio\] media thread (\d+): SCHED_RR 4, set directly/))[1]);
    const speaker = Number((await station.waitFor(/\[audio\] speaker thread (\d+): SCHED_RR 5, set directly/))[1]);
    const network = Number((await station.waitFor(/\[audio\] network thread (\d+): SCHED_RR 3, set directly/))[1]);
    const of = (tid: number) => {
      const stat = readFileSync(`/proc/${station.pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), policy: Number(fields[41 - 3]), rtPriority: Number(fields[40 - 3]), nice: Number(fields[19 - 3]) };
    };
    const realtimeOf = (tid: number) => ({ policy: of(tid).policy, rtPriority: of(tid).rtPriority });
    assert.deepEqual(realtimeOf(media), { policy: 2, rtPriority: 4 }, 'the media thread');
    assert.deepEqual(realtimeOf(speaker), { policy: 2, rtPriority: 5 }, 'the speaker thread');
    // The network thread is made real-time once a device runs, a moment after the media thread.
    const policiesOf = async (tid: number, ms: number, until: (p: { policy: number; rtPriority: number }) => boolean) => {
      const seen: string[] = [];
      for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
        const p = realtimeOf(tid);
        if (seen.at(-1) !== `${p.policy}/${p.rtPriority}`) seen.push(`${p.policy}/${p.rtPriority}`);
        if (until(p)) break;
      }
      return seen;
    };
    await policiesOf(network, 10_000, (p) => p.policy === 2);
    assert.deepEqual(realtimeOf(network), { policy: 2, rtPriority: 3 }, 'the network thread');
    // A peer's ICE and DTLS set-up runs on the network thread for tens of ms at once: at its nice value meanwhile, so
    // the sound server's threads are not held up, then real-time again.
    const url = (await station.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const y = new StationProcess(['--name', 'Y', '--server', url, '--insecure', '--line', 'main:s3cret', '--input', d.inputId, '--output', d.outputId], pulse.env);
    try {
      const during = policiesOf(network, 8000, (p) => p.policy === 0);
      await station.waitFor(/\[peer Y\] connected/, 20_000);
      assert.deepEqual((await during).at(-1), '0/0', `X's network thread at SCHED_OTHER during Y's set-up (policies seen: ${(await during).join(' -> ')})`);
      const after = await policiesOf(network, 10_000, (p) => p.policy === 2);
      assert.deepEqual(realtimeOf(network), { policy: 2, rtPriority: 3 }, `the network thread real-time again after the set-up (${after.join(' -> ')})`);
      assert.ok(station.lines.some((l) => new RegExp(`network thread ${network}: its nice value while peers are set up`).test(l)), 'the step down is logged');
    } finally {
      assert.equal(await y.stop(), '0');
    }
    const lagging = () =>
      readdirSync(`/proc/${station.pid}/task`)
        .map(Number)
        .filter((tid) => tid !== station.pid)
        .map((tid) => ({ tid, ...of(tid) }))
        .filter((t) => t.policy === 0 && t.nice > -11);
    for (let i = 0; i < 20 && lagging().length > 0; i++) await sleep(100);
    assert.deepEqual(lagging(), [], 'no thread but the main one below the audio priority');
  } finally {
    assert.equal(await station.stop(), '0');
  }
});
