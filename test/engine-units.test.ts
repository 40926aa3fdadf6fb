// The engine's small parts, with real werift packets and real audio buffers (no network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from 'werift';
import { RtpPacketizer } from '../electron/engine/rtp-packetizer';
import { LevelMeter } from '../electron/engine/meter';
import { Mixer, type MixerInput } from '../electron/engine/mixer';
import { withAudioPreferences } from '../electron/engine/sdp-audio';
import { stationIdFrom } from '../electron/engine/station';
import { tone, toneDb, rmsDb } from './support/signal';

test('RTP: sequence numbers count packets, timestamps count samples, the marker opens each talk spurt', () => {
  let r = 0.5;
  const p = new RtpPacketizer(() => r);
  const first = p.packetize(Buffer.from([1]), 0);
  const second = p.packetize(Buffer.from([2]), 480);
  p.endSpurt();
  // 50 frames of silence were captured but not sent: the timestamp jumps by their samples, the sequence does not.
  const third = p.packetize(Buffer.from([3]), 480 * 52);
  const wire = [first, second, third].map((x) => RtpPacket.deSerialize(x.serialize()));
  assert.deepEqual(wire.map((x) => x.header.marker), [true, false, true]);
  assert.equal((wire[1]!.header.sequenceNumber - wire[0]!.header.sequenceNumber + 0x10000) % 0x10000, 1);
  assert.equal((wire[2]!.header.sequenceNumber - wire[1]!.header.sequenceNumber + 0x10000) % 0x10000, 1);
  assert.equal((wire[1]!.header.timestamp - wire[0]!.header.timestamp) >>> 0, 480);
  assert.equal((wire[2]!.header.timestamp - wire[1]!.header.timestamp) >>> 0, 480 * 51);
  assert.deepEqual([...wire[2]!.payload], [3]);
  r = 0.99999;
  const wrap = new RtpPacketizer(() => r);
  const a = wrap.packetize(Buffer.from([0]), 0);
  const b = wrap.packetize(Buffer.from([0]), 480);
  assert.equal(b.header.sequenceNumber, (a.header.sequenceNumber + 1) & 0xffff, 'sequence wraps at 16 bits');
  assert.equal(b.header.timestamp, (a.header.timestamp + 480) >>> 0, 'timestamp wraps at 32 bits');
});

test('meter: a -12 dBFS sine reads -12 dBFS peak and -15 dBFS RMS; silence reads the floor; read() resets', () => {
  const m = new LevelMeter();
  m.feed(tone(1000, 0.1, -12));
  const r = m.read();
  assert.ok(Math.abs(r.peakDb + 12) < 0.1, `peak ${r.peakDb}`);
  assert.ok(Math.abs(r.rmsDb + 15.05) < 0.1, `rms ${r.rmsDb}`);
  assert.deepEqual(m.read(), { peakDb: -120, rmsDb: -120 });
});

function input(pcm: Int16Array, gain: number): MixerInput & { pulls: number } {
  let at = 0;
  const x = {
    pulls: 0,
    meter: new LevelMeter(),
    gain: () => gain,
    pull: (n: number) => {
      x.pulls++;
      const out = pcm.slice(at, at + n);
      at += n;
      return out.length === n ? out : new Int16Array(n);
    },
  };
  return x;
}

test('mixer: sums inputs at their gains, pulls muted inputs too, and limits instead of wrapping', () => {
  const mixer = new Mixer(() => 0);
  const a = input(tone(440, 1, -12), 1);
  const b = input(tone(1000, 1, -12), 0.5);
  const muted = input(tone(2000, 1, -6), 0);
  mixer.inputs.add(a).add(b).add(muted);
  const out = new Int16Array(48000);
  for (let i = 0; i < 100; i++) out.set(mixer.pull(480), i * 480);
  assert.ok(Math.abs(toneDb(out, 440) + 12) < 0.3, '440 Hz at gain 1');
  assert.ok(Math.abs(toneDb(out, 1000) + 18) < 0.3, '1000 Hz at gain 0.5 (-6 dB)');
  assert.ok(toneDb(out, 2000) < -80, 'a muted input is not heard');
  assert.equal(muted.pulls, 100, 'but it is pulled every tick, so it keeps its own time');

  const loud = new Mixer(() => 0);
  loud.inputs.add(input(tone(300, 1, 0), 1)).add(input(tone(300, 1, 0), 1));
  const clipped = loud.pull(4800);
  let max = 0;
  for (const v of clipped) max = Math.max(max, Math.abs(v));
  assert.ok(max <= 32767 && max > 30000, `two full-scale talkers are limited, not wrapped (max ${max})`);
});

test('mixer: the test tone plays at its frequency and level on an otherwise silent output', () => {
  const mixer = new Mixer(() => 0);
  mixer.setTestTone(true, 1000, -18);
  const out = new Int16Array(48000);
  for (let i = 0; i < 100; i++) out.set(mixer.pull(480), i * 480);
  assert.ok(Math.abs(toneDb(out, 1000) + 18) < 0.3);
  mixer.setTestTone(false);
  assert.ok(rmsDb(mixer.pull(480)) < -100);
});

test('SDP: a=ptime and useinbandfec=1 are added to the audio section only, once', () => {
  const sdp = [
    'v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10', 'a=ptime:20',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=sctp-port:5000', '',
  ].join('\r\n');
  const out = withAudioPreferences(sdp, 10);
  assert.match(out, /a=fmtp:111 minptime=10;useinbandfec=1\r\n/);
  assert.equal(out.match(/a=ptime:/g)?.length, 1);
  const audio = out.slice(out.indexOf('m=audio'), out.indexOf('m=application'));
  assert.match(audio, /a=ptime:10\r\n/);
  assert.ok(out.endsWith('\r\n'));
  assert.equal(withAudioPreferences(out, 10), out, 'idempotent');
});

test('station ids derive from names within the protocol alphabet', () => {
  assert.equal(stationIdFrom('Stage Left'), 'Stage-Left');
  assert.equal(stationIdFrom('A'), 'A');
  assert.match(stationIdFrom('!!!'), /^station-[a-z0-9]+$/);
});

test('mixer: each line bus meters what that line plays at its gain; the master volume scales the speaker, not the line meters', () => {
  const mixer = new Mixer(() => 0);
  const a = input(tone(440, 1, -12), 1);
  const b = input(tone(1000, 1, -12), 1);
  mixer.inputs.add(a).add(b);
  const main = { meter: new LevelMeter(), gain: (x: MixerInput) => (x === a ? 1 : 0) };
  const aux = { meter: new LevelMeter(), gain: (x: MixerInput) => (x === b ? 0.5 : 0) };
  const quiet = { meter: new LevelMeter(), gain: () => 0 };
  mixer.buses.add(main).add(aux).add(quiet);
  mixer.masterGain = 0.5;
  const out = new Int16Array(48000);
  for (let i = 0; i < 100; i++) out.set(mixer.pull(480), i * 480);
  // -12 dBFS peak sine: -15.05 dBFS RMS.
  assert.ok(Math.abs(main.meter.read().rmsDb + 15.05) < 0.2, 'main plays A at volume 1');
  assert.ok(Math.abs(aux.meter.read().rmsDb + 21.07) < 0.2, 'aux plays B at volume 0.5 (-6 dB)');
  assert.equal(quiet.meter.read().peakDb, -120, 'a line nobody talks on is silent');
  assert.ok(Math.abs(toneDb(out, 440) + 18) < 0.3, 'the speaker has A at master 0.5 (-6 dB)');
  assert.ok(Math.abs(toneDb(out, 1000) + 18) < 0.3);
});
