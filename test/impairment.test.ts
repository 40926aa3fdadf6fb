// Two stations in separate processes whose media crosses an impairing UDP relay: the tone survives 5 % loss and 20 ms
// of jitter, and what the receiver reports about the path matches what the relay did to it. The other direction is
// the control: a clean path (a fixed delay only) through the same relay, on the same loaded machine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerHealth } from '../electron/common/contract';
import { SignallingServer } from '../electron/signalling/server';
import { PulseHarness, sleep } from '../testkit/pulse';
import { StationProcess } from '../testkit/station-process';
import { SignallingProxy } from '../testkit/signalling-proxy';
import { UdpRelay } from '../testkit/udp-relay';
import { tone, dominantFrequency, silentFrames } from '../testkit/signal';

let pulse: PulseHarness;
before(async () => {
  pulse = await PulseHarness.start(['a', 'b']);
});
after(async () => {
  await pulse?.stop();
});

function stationArgs(name: string, server: string, extra: string[] = []): string[] {
  const d = pulse.devices(name.toLowerCase());
  return ['--name', name, '--server', server, '--insecure', '--line', 'main', '--input', d.inputId, '--output', d.outputId, '--ui', ...extra];
}

function healthOf(station: StationProcess, peer: string, from = 0): PeerHealth[] {
  return station.events
    .slice(from)
    .filter((e) => e.event === 'health')
    .map((e) => (e.payload as { peers: PeerHealth[] }).peers.find((p) => p.stationId === peer))
    .filter((p): p is PeerHealth => p !== undefined);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('A->B through 5 % loss and 20 ms jitter: the tone arrives as whole as on the clean way back, B reports the loss and jitter the relay applied, A protects with FEC', async (t) => {
  const relay = new UdpRelay(20240611, {
    'A->B': { loss: 0.05, jitterMs: 20 },
    // The control: a fixed delay, which the RTT must show, and no jitter or loss.
    'B->A': { delayMs: 15 },
  });
  const server = new SignallingServer({ port: 0, host: '127.0.0.1', lines: {} });
  const { url } = await server.start();
  const proxy = await SignallingProxy.start(url, relay);
  const a = new StationProcess(stationArgs('A', proxy.url, ['--talk', 'main']), pulse.env);
  const b = new StationProcess(stationArgs('B', proxy.url, ['--talk', 'main']), pulse.env);
  try {
    await Promise.all([a.waitFor(/\[peer B\] connected/), b.waitFor(/\[peer A\] connected/)]);
    await Promise.all([a.connectControl(), b.connectControl()]);
    const toB = pulse.inject(pulse.devices('a').micSink, tone(440, 17, -12));
    const toA = pulse.inject(pulse.devices('b').micSink, tone(1000, 17, -12));
    await sleep(3000); // settle: first reports, playout target, encoder adaptation
    const before = healthOf(b, 'A').at(-1);
    assert.ok(before, 'B reports health for A');
    const fromEvent = b.events.length;
    relay.resetStats();
    const fromEventA = a.events.length;
    const recB = pulse.record(pulse.devices('b').speakerMonitor);
    const recA = pulse.record(pulse.devices('a').speakerMonitor);
    await sleep(12_000);
    const [atB, atA] = await Promise.all([recB.stop(), recA.stop()]);
    const window = healthOf(b, 'A', fromEvent);
    const control = healthOf(a, 'B', fromEventA);
    const path = relay.stats('A->B');
    toB.stop();
    toA.stop();
    const after = window.at(-1) as PeerHealth;
    const aHealth = control.at(-1) as PeerHealth;

    // The tone, whole: loss is concealed or rebuilt from FEC, never heard as a gap.
    const from = 4800;
    const to = from + 48000 * 10;
    assert.ok(atB.length >= to && atA.length >= to, `recorded ${atB.length} and ${atA.length} samples`);
    const f = dominantFrequency(atB, 100, 4000, from, to);
    assert.ok(Math.abs(f - 440) <= 2, `B hears ${f} Hz`);
    assert.ok(Math.abs(dominantFrequency(atA, 100, 4000, from, to) - 1000) <= 2, 'A hears 1000 Hz');
    // Silent 10 ms frames on an idle machine: none either way. Under load, device underruns hit both ways alike; the
    // impaired way may add at most 1 % (loss that neither FEC nor concealment covered would show as gaps).
    const gaps = silentFrames(atB, -40, from, to).length;
    const controlGaps = silentFrames(atA, -40, from, to).length;
    assert.ok(gaps <= controlGaps + 10, `B: ${gaps} silent 10 ms frames of 1000, A (clean way): ${controlGaps}`);

    // Loss: the relay's own count over ~1200 packets is the truth; B's rate is over its last 200 sequence numbers, so
    // its mean over the window has a sampling error of about ±1.5 points.
    const relayLoss = path.dropped / path.rtpIn;
    const reportedLoss = mean(window.map((h) => h.lossRate));
    assert.ok(path.rtpIn > 1000, `relay passed ${path.rtpIn} RTP packets`);
    assert.ok(Math.abs(relayLoss - 0.05) < 0.02, `relay dropped ${(relayLoss * 100).toFixed(1)} %`);
    assert.ok(Math.abs(reportedLoss - relayLoss) < 0.02, `B reports ${(reportedLoss * 100).toFixed(1)} % loss, relay dropped ${(relayLoss * 100).toFixed(1)} %`);

    // A lost packet's frame is rebuilt from FEC or concealed (a late packet's too). The exception: after a stall (a
    // starved process on a loaded machine) the playout drops its backlog to catch up, and a loss inside it is skipped,
    // not repaired. So B's repaired frames follow the relay's drops, from half of them up to twice (late packets).
    const repaired = after.concealedFrames - before.concealedFrames + ((after.fecRecoveredFrames ?? 0) - (before.fecRecoveredFrames ?? 0));
    assert.ok(repaired >= path.dropped * 0.5 && repaired <= path.dropped * 2 + 20, `B repaired ${repaired} frames, relay dropped ${path.dropped}`);
    assert.ok((after.fecRecoveredFrames ?? 0) > (before.fecRecoveredFrames ?? 0), 'FEC rebuilt some of them');

    // Jitter: RFC 3550 jitter converges on the mean |transit difference|. Transit differences are the relay's plus
    // the sender's own timing (capture, scheduling), so the reported mean lies within the sender's share of the
    // relay's; the clean way back measures that share for a station on this machine now. 3 ms for the estimator's noise.
    const reportedJitter = mean(window.map((h) => h.jitterMs));
    const senderJitter = mean(control.map((h) => h.jitterMs));
    assert.ok(
      Math.abs(reportedJitter - path.addedJitterMs) <= senderJitter + 3,
      `B reports ${reportedJitter.toFixed(1)} ms jitter, relay added ${path.addedJitterMs.toFixed(1)} ms, clean way ${senderJitter.toFixed(1)} ms`,
    );
    assert.ok(mean(control.map((h) => h.lossRate)) < 0.005, 'no loss reported on the clean way');
    // The playout delay makes room for the delay spread (0..20 ms): most of it on top of the 10 ms frame. (Not judged
    // against the clean way: there the target rises too, after a scheduling hiccup of a busy machine.)
    const target = mean(window.map((h) => h.targetDelayMs));
    assert.ok(target >= 10 + 15, `target delay ${target.toFixed(1)} ms covers the relay's delay spread (clean way: ${mean(control.map((h) => h.targetDelayMs)).toFixed(1)} ms)`);

    // A: the RTT from RTCP runs over the relay (15 ms back, up to 20 ms there), and A's encoder follows B's loss.
    assert.ok(aHealth.rttMs !== null && aHealth.rttMs >= 14 && aHealth.rttMs <= 80, `A measures RTT ${aHealth.rttMs} ms`);
    // Each RTCP report covers a second or so of packets (about ±2 points of sampling error each), so judge the mean of
    // what A heard. A smooths with a fast attack and a slow release (protect first), so it reads high, by up to 4 points.
    const heard = control.map((h) => h.remoteLossRate).filter((r): r is number => typeof r === 'number');
    const heardExcess = mean(heard) - relayLoss;
    assert.ok(heard.length > 0 && heardExcess > -0.02 && heardExcess < 0.04, `A hears of ${(mean(heard) * 100).toFixed(1)} % loss (reports ${heard.map((r) => (r * 100).toFixed(1)).join(' ')}), relay dropped ${(relayLoss * 100).toFixed(1)} %`);
    t.diagnostic(
      `relay A->B: ${path.rtpIn} RTP, ${path.dropped} dropped, +${path.addedJitterMs.toFixed(1)} ms jitter | B: loss ${(reportedLoss * 100).toFixed(1)} %, ` +
        `jitter ${reportedJitter.toFixed(1)} ms, repaired ${repaired}, target ${after.targetDelayMs.toFixed(0)} ms, gaps ${gaps} | ` +
        `A: rtt ${aHealth.rttMs?.toFixed(1)} ms, clean-way jitter ${senderJitter.toFixed(1)} ms, gaps ${controlGaps}`,
    );
    const fec = a.lines.filter((l) => /\[send\] \d+ bps, FEC on for \d+ % loss/.test(l)).at(-1);
    assert.ok(fec, `A switched FEC on:\n${a.lines.filter((l) => l.includes('[send]')).join('\n')}`);
  } finally {
    const [codeA, codeB] = await Promise.all([a.stop(), b.stop()]);
    await proxy.close();
    await server.close();
    relay.close();
    assert.equal(codeA, '0');
    assert.equal(codeB, '0');
  }
});
