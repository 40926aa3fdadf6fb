import { syllables } from '../testkit/signal';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpusDecoder, OpusEncoder, OpusError, type OpusEncoderOptions, type OpusFrameMs } from '../native/opus/index';
import { SAMPLE_RATE as RATE } from '../native/audio-format';

/** -12 dBFS peak. */
const TONE_AMPLITUDE = 32767 * 10 ** (-12 / 20);

function tone(hz: number, start: number, samples: number): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(TONE_AMPLITUDE * Math.sin((2 * Math.PI * hz * (start + i)) / RATE));
  return out;
}


function rms(x: Int16Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return Math.sqrt(sum / x.length);
}

function snrDb(reference: Int16Array, x: Int16Array): number {
  let signal = 0;
  let error = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] ?? 0;
    signal += r * r;
    error += (r - (x[i] ?? 0)) ** 2;
  }
  return 10 * Math.log10(signal / Math.max(error, 1));
}

/** Frequency from upward zero crossings, interpolated between samples. */
function frequencyHz(x: Int16Array): number {
  const crossings: number[] = [];
  for (let i = 1; i < x.length; i++) {
    const a = x[i - 1] ?? 0;
    const b = x[i] ?? 0;
    if (a < 0 && b >= 0) crossings.push(i - 1 + -a / (b - a));
  }
  const first = crossings[0];
  const last = crossings[crossings.length - 1];
  assert.ok(first !== undefined && last !== undefined && crossings.length > 2, 'signal has no periodic zero crossings');
  return ((crossings.length - 1) * RATE) / (last - first);
}

function concat(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

function encodeTone(frameMs: OpusFrameMs, seconds: number, hz = 440): { encoder: OpusEncoder; packets: Buffer[] } {
  const encoder = new OpusEncoder({ frameMs, bitrate: 48000, fec: false });
  const packets: Buffer[] = [];
  for (let at = 0; at < seconds * RATE; at += encoder.frameSamples) packets.push(encoder.encode(tone(hz, at, encoder.frameSamples)));
  return { encoder, packets };
}

function thrown(fn: () => unknown): OpusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OpusError, `expected an OpusError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an OpusError, nothing was thrown');
}

describe('Opus binding', () => {
  it('carries a 440 Hz tone at -12 dBFS through 10 ms frames at the same pitch and level', () => {
    const { packets } = encodeTone(10, 1);
    const decoder = new OpusDecoder();
    const decoded = packets.map((p) => decoder.decode(p));
    // Skip the first 100 ms: the codec's delay and its start-up.
    const steady = concat(decoded.slice(10));
    assert.ok(Math.abs(frequencyHz(steady) - 440) < 2, `frequency ${frequencyHz(steady)} Hz`);
    const levelDb = 20 * Math.log10(rms(steady) / (TONE_AMPLITUDE / Math.SQRT2));
    assert.ok(Math.abs(levelDb) < 1, `level off by ${levelDb.toFixed(2)} dB`);
  });

  for (const frameMs of [5, 10, 20] as const) {
    it(`codes ${frameMs} ms frames`, () => {
      const { encoder, packets } = encodeTone(frameMs, 0.3);
      assert.equal(encoder.frameSamples, frameMs * 48);
      const decoder = new OpusDecoder();
      const decoded = packets.map((p) => {
        assert.equal(OpusDecoder.packetSamples(p), encoder.frameSamples);
        const pcm = decoder.decode(p);
        assert.equal(pcm.length, encoder.frameSamples);
        assert.equal(decoder.lastPacketDuration, encoder.frameSamples);
        return pcm;
      });
      const steady = concat(decoded.slice(Math.ceil(decoded.length / 3)));
      assert.ok(Math.abs(frequencyHz(steady) - 440) < 2, `frequency ${frequencyHz(steady)} Hz`);
    });
  }

  it('interleaves stereo frames', () => {
    const encoder = new OpusEncoder({ channels: 2, frameMs: 10, bitrate: 64000, fec: false });
    const decoder = new OpusDecoder({ channels: 2 });
    const pcm = decoder.decode(encoder.encode(new Int16Array(960)));
    assert.equal(pcm.length, 960);
    assert.equal(decoder.conceal(480).length, 960);
  });

  it("refuses a frame of the wrong length with 'bad-frame'", () => {
    const encoder = new OpusEncoder({ frameMs: 10, bitrate: 32000, fec: false });
    for (const samples of [479, 481, 960]) {
      const err = thrown(() => encoder.encode(new Int16Array(samples)));
      assert.equal(err.code, 'bad-frame');
      assert.match(err.message, new RegExp(`${samples} samples`));
    }
    assert.equal(thrown(() => encoder.encode(new Float32Array(480) as unknown as Int16Array)).code, 'bad-frame');
  });

  it('conceals exactly one frame as a decaying continuation of the tone', () => {
    const { packets } = encodeTone(10, 0.5);
    const decoder = new OpusDecoder();
    let last: Int16Array = new Int16Array(0);
    for (const p of packets) last = decoder.decode(p);
    const concealed = [1, 2, 3, 4, 5].map(() => decoder.conceal(480));
    const first = concealed[0] ?? assert.fail();
    assert.equal(first.length, 480);
    assert.equal(decoder.lastPacketDuration, 480);
    const ratio = rms(first) / rms(last);
    assert.ok(ratio > 0.5 && ratio < 1.5, `concealment level is ${ratio.toFixed(2)} of the tone's`);
    assert.ok(Math.abs(frequencyHz(first) - 440) < 20, `concealment at ${frequencyHz(first)} Hz`);
    const levels = concealed.map(rms);
    assert.ok((levels[4] ?? Infinity) < 0.5 * (levels[0] ?? 0), `concealment does not fade: ${levels.map(Math.round).join(', ')}`);
  });

  describe('in-band FEC', () => {
    const speech = syllables(RATE);
    // Frames well inside the 2nd and 3rd syllables.
    const lostFrames = [44, 46, 48, 50, 52, 54, 56, 84, 86, 88, 90, 92, 94, 96];

    /** Mean SNR in dB of recovering each lost frame with decodeFec() and with conceal(). */
    function recoverLostFrames(fec: boolean): { fecDb: number; concealDb: number } {
      const encoder = new OpusEncoder({ frameMs: 10, bitrate: 32000, fec, packetLossPercent: 20 });
      const packets: Buffer[] = [];
      for (let at = 0; at + 480 <= speech.length; at += 480) packets.push(encoder.encode(speech.subarray(at, at + 480)));
      const clean = new OpusDecoder();
      const cleanFrames = packets.map((p) => clean.decode(p));
      let fecDb = 0;
      let concealDb = 0;
      for (const lost of lostFrames) {
        const recovering = new OpusDecoder();
        const concealing = new OpusDecoder();
        for (const p of packets.slice(0, lost)) {
          recovering.decode(p);
          concealing.decode(p);
        }
        const reference = cleanFrames[lost] ?? assert.fail();
        const next = packets[lost + 1] ?? assert.fail();
        const recovered = recovering.decodeFec(next, 480);
        assert.equal(recovered.length, 480);
        fecDb += snrDb(reference, recovered) / lostFrames.length;
        concealDb += snrDb(reference, concealing.conceal(480)) / lostFrames.length;
        // The stream carries on after the recovery.
        assert.equal(recovering.decode(next).length, 480);
      }
      return { fecDb, concealDb };
    }

    it('recovers a lost frame from the next packet much better than concealment', () => {
      const { fecDb, concealDb } = recoverLostFrames(true);
      assert.ok(fecDb > concealDb + 6, `FEC ${fecDb.toFixed(1)} dB vs concealment ${concealDb.toFixed(1)} dB`);
    });

    it('falls back to concealment when the stream carries no FEC', () => {
      const { fecDb, concealDb } = recoverLostFrames(false);
      assert.ok(Math.abs(fecDb - concealDb) < 0.5, `FEC ${fecDb.toFixed(1)} dB vs concealment ${concealDb.toFixed(1)} dB`);
    });
  });

  it("throws 'corrupt-packet' on a malformed payload and keeps decoding afterwards", () => {
    const { packets } = encodeTone(10, 0.5);
    const decoder = new OpusDecoder();
    const after: Int16Array[] = [];
    packets.forEach((p, i) => {
      if (i === 20) {
        // Code-3 packet claiming 63 frames of 20 ms: over the 120 ms limit.
        const err = thrown(() => decoder.decode(Uint8Array.of(0xff, 0xff)));
        assert.equal(err.code, 'corrupt-packet');
        assert.match(err.message, /corrupt/);
        assert.equal(thrown(() => decoder.decode(new Uint8Array(0))).code, 'corrupt-packet');
        assert.equal(thrown(() => OpusDecoder.packetSamples(Uint8Array.of(0xff, 0xff))).code, 'corrupt-packet');
      }
      const pcm = decoder.decode(p);
      if (i >= 25) after.push(pcm);
    });
    assert.ok(Math.abs(frequencyHz(concat(after)) - 440) < 2);
  });

  it('names the field of an invalid option', () => {
    const valid: OpusEncoderOptions = { frameMs: 10, bitrate: 32000, fec: true };
    const cases: Array<[string, () => unknown]> = [
      ['bitrate', () => new OpusEncoder({ ...valid, bitrate: -1 })],
      ['bitrate', () => new OpusEncoder({ ...valid, bitrate: 600000 })],
      ['sampleRate', () => new OpusEncoder({ ...valid, sampleRate: 44100 as 48000 })],
      ['channels', () => new OpusEncoder({ ...valid, channels: 3 as 2 })],
      ['frameMs', () => new OpusEncoder({ ...valid, frameMs: 15 as 10 })],
      ['fec', () => new OpusEncoder({ ...valid, fec: 'yes' as unknown as boolean })],
      ['packetLossPercent', () => new OpusEncoder({ ...valid, packetLossPercent: 101 })],
      ['complexity', () => new OpusEncoder({ ...valid, complexity: 11 })],
      ['application', () => new OpusEncoder({ ...valid, application: 'music' as 'audio' })],
      ['bitrate', () => new OpusEncoder(valid).setBitrate(1.5)],
      ['packetLossPercent', () => new OpusEncoder(valid).setPacketLossPercent(-5)],
      ['sampleRate', () => new OpusDecoder({ sampleRate: 16000 as 48000 })],
      ['samples', () => new OpusDecoder().conceal(100)],
      ['samples', () => new OpusDecoder().decodeFec(Uint8Array.of(8), 0)],
      ['payload', () => new OpusDecoder().decode([1, 2] as unknown as Uint8Array)],
    ];
    for (const [field, make] of cases) {
      const err = thrown(make);
      assert.equal(err.code, 'bad-arg', field);
      assert.equal(err.field, field);
      assert.match(err.message, new RegExp(field));
    }
  });
});
