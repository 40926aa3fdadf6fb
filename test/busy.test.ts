// Audio never stutters because the main thread is busy (a control flood, a long task, GC), and control never freezes
// because audio is busy: the devices are served from the media thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess, stopStations } from '../testkit/station-process';
import { tone, dominantFrequency, silentFrames } from '../testkit/signal';

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a', 'b']);
});
after(async () => {
  await pulse?.stop();
});

test('a control flood during playout: no dropout at the speaker, every command answered, meters keep flowing', async (t) => {
  // A talks through PortAudio and ALSA's pulse plugin; B, whose speaker is judged, listens on the sound server's own
  // protocol, the path a station takes by default: the plugin's own device underflows (README, the PortAudio path's
  // known weakness) are not what a control flood is about.
  const dev = (s: string) => ['--input', pulse.devices(s).inputId, '--output', pulse.devices(s).outputId];
  const serverDev = (s: string) => ['--input', pulse.devices(s).serverInputId, '--output', pulse.devices(s).serverOutputId];
  const a = new StationProcess(['--name', 'A', '--host', '--port', '0', '--insecure', '--line', 'main', '--talk', 'main', ...dev('a')], pulse.env);
  const stations = [a];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(['--name', 'B', '--server', url, '--insecure', '--line', 'main', '--ui', ...serverDev('b')], pulse.env);
    stations.push(b);
    await b.waitFor(/\[peer A\] first RTP/, 20000);
    await b.connectControl();
    // Longer than any flood: the flood's length follows the machine (each device listing scans), and a tone that ran
    // out before the recording did would be heard as a dropout.
    const talk = pulse.inject(pulse.devices('a').micSink, tone(440, 600, -12));
    try {
      await sleep(1000);
      const rec = pulse.record(pulse.devices('b').speakerMonitor);
      const metersBefore = b.events.filter((e) => e.event === 'meters').length;
      const started = Date.now();
      let answered = 0;
      let rejected = 0;
      // 63 x 64 commands, 64 in flight at a time: state reads, device listings (PortAudio enumeration), volume writes.
      const batches = 63;
      const total = batches * 64;
      const commands: [string, unknown][] = [
        ['station.getState', {}],
        ['devices.list', {}],
        ['line.setVolume', { line: 'main', volume: 1 }],
        ['line.setVolume', { line: 'nope', volume: 1 }],
      ];
      for (let batch = 0; batch < batches; batch++) {
        await Promise.all(
          Array.from({ length: 64 }, (_, i) => {
            const [cmd, input] = commands[(batch * 64 + i) % commands.length] as [string, unknown];
            return b.invoke(cmd, input).then(
              () => answered++,
              (e: { code?: string }) => {
                if (e.code === 'invalid') rejected++;
              },
            );
          }),
        );
      }
      const floodMs = Date.now() - started;
      await sleep(Math.max(0, 6000 - floodMs));
      const x = await rec.stop();
      const seconds = (Date.now() - started) / 1000;
      const meters = b.events.filter((e) => e.event === 'meters').length - metersBefore;
      t.diagnostic(`flood: ${total} commands in ${floodMs} ms; meters ${(meters / seconds).toFixed(1)} Hz during it`);
      assert.equal(answered + rejected, total, 'every command was answered');
      assert.equal(rejected, total / 4, 'the bad ones (unknown line) were refused with invalid');
      assert.ok(meters / seconds >= 20, `meters kept flowing at ${(meters / seconds).toFixed(1)} Hz`);
      const from = 4800;
      const to = x.length - 2400;
      assert.ok(Math.abs(dominantFrequency(x, 100, 4000, from, to) - 440) <= 2, 'B heard A throughout');
      // Where a dropout came from: A's microphone or send path, B's playout or speaker (each logs its own trouble).
      for (const s of [a, b]) t.diagnostic(s.audioTrouble());
      assert.deepEqual(silentFrames(x, -40, from, to), [], 'no 10 ms dropout at the speaker during the flood');
    } finally {
      talk.stop();
    }
  } finally {
    await stopStations(stations.reverse());
  }
});

test('the main thread blocked for 200 ms at a time, at both ends: not one silent frame at the speaker, nothing concealed for it', async (t) => {
  const dev = (s: string) => ['--input', pulse.devices(s).serverInputId, '--output', pulse.devices(s).serverOutputId];
  // Both stations' main threads spin for 200 ms every 1.5 s: signalling, control and timers there stop meanwhile.
  const stall = ['--debug-stall-main', '200/1500'];
  const a = new StationProcess(['--name', 'A', '--host', '--port', '0', '--insecure', '--line', 'main', '--talk', 'main', ...stall, ...dev('a')], pulse.env);
  const stations = [a];
  try {
    const url = (await a.waitFor(/hosting (ws:\/\/\S+)/))[1] as string;
    const b = new StationProcess(['--name', 'B', '--server', url, '--insecure', '--line', 'main', '--ui', ...stall, ...dev('b')], pulse.env);
    stations.push(b);
    await b.waitFor(/\[peer A\] first RTP/, 20000);
    await b.connectControl();
    const rec = pulse.record(pulse.devices('b').speakerMonitor);
    await sleep(300);
    const talk = pulse.inject(pulse.devices('a').micSink, tone(440, 11, -12));
    try {
      await sleep(2500);
      const concealed = () => {
        const h = b.events.filter((e) => e.event === 'health').at(-1)?.payload as { peers: { stationId: string; concealedFrames: number }[] } | undefined;
        return h?.peers.find((p) => p.stationId === 'A')?.concealedFrames ?? NaN;
      };
      const concealedBefore = concealed();
      const stallsBefore = [a, b].map((s) => s.lines.filter((l) => /main thread was blocked for \d+ ms/.test(l)).length);
      const exitsBefore = b.lines.filter((l) => /\[playout\] A: a frame held back/.test(l)).length;
      // Five stalls or more at each end.
      await sleep(8000);
      const concealedAfter = concealed();
      const x = await rec.stop();
      const stalls = [a, b].map((s, i) => s.lines.filter((l) => /main thread was blocked for \d+ ms/.test(l)).length - (stallsBefore[i] as number));
      const from = 48000 * 3;
      const to = from + 48000 * 7.5;
      const gaps = silentFrames(x, -40, from, to);
      t.diagnostic(`main-thread stalls during the recording: A ${stalls[0]}, B ${stalls[1]}; concealed ${concealedBefore} -> ${concealedAfter}; silent frames ${gaps.length}`);
      assert.ok(stalls.every((n) => n >= 4), `both main threads stalled again and again (${stalls.join(', ')})`);
      t.diagnostic(`B: ${b.lines.filter((l) => /\[(audio|playout)\]/.test(l)).slice(-6).join(' | ')}`);
      // Each health report where B's count of concealed frames moved, with the speaker's margin and tick wait then.
      let seen = concealedBefore;
      const moves = b.events.flatMap((e) => {
        if (e.event !== 'health') return [];
        const h = e.payload as { peers: { stationId: string; concealedFrames: number }[]; speaker?: { marginMs: number; tickWaitMs: number } };
        const now = h.peers.find((p) => p.stationId === 'A')?.concealedFrames;
        if (now === undefined || now === seen) return [];
        seen = now;
        return [`${new Date(e.at).toISOString().slice(11, 23)} concealed ${now} margin ${h.speaker?.marginMs} wait ${h.speaker?.tickWaitMs}`];
      });
      t.diagnostic(`B's concealment: ${moves.join(' | ') || 'none'}; stalls: ${b.lines.filter((l) => /main thread was blocked/.test(l)).map((l) => l.slice(0, 12)).join(', ')}`);
      assert.ok(Math.abs(dominantFrequency(x, 100, 4000, from, to) - 440) <= 2, 'B heard A throughout');
      assert.ok(Number.isFinite(concealedBefore), 'B reported the health of its link to A');
      assert.deepEqual(gaps, [], 'no 10 ms dropout at the speaker while the main threads stalled');
      // A playout in low latency that leaves it because a packet came after its pull conceals that one frame, by design
      // (README, low latency); a packet held up by a stalled thread would cost a frame for every 10 ms of the stall.
      const exits = b.lines.filter((l) => /\[playout\] A: a frame held back/.test(l)).length - exitsBefore;
      assert.ok(
        concealedAfter - concealedBefore <= exits,
        `no frame concealed beyond the one each of B's ${exits} exit(s) from low latency costs: ${concealedBefore} -> ${concealedAfter}`,
      );
    } finally {
      talk.stop();
    }
  } finally {
    await stopStations(stations.reverse());
  }
});
