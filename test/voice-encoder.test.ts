import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpusDecoder } from '../native/opus';
import { VoiceEncoder, type VoiceApplication } from '../electron/engine/voice-encoder';
import type { EncoderSettings } from '../electron/engine/sender-adaptation';
import { rmsDb, syllables } from '../testkit/signal';

const FRAME = 480;
const CLEAN: EncoderSettings = { bitrate: 32000, fec: false, packetLossPercent: 1 };
const LOSSY: EncoderSettings = { bitrate: 40000, fec: true, packetLossPercent: 10 };

/** Encodes `pcm` frame by frame; `before(i)` may change settings before frame i. Returns the packets. */
function encodeAll(enc: VoiceEncoder, pcm: Int16Array, before: (frame: number) => void = () => undefined): Buffer[] {
  const packets: Buffer[] = [];
  for (let i = 0; (i + 1) * FRAME <= pcm.length; i++) {
    before(i);
    packets.push(enc.encode(pcm.subarray(i * FRAME, (i + 1) * FRAME)));
  }
  return packets;
}

function decodeAll(packets: Buffer[]): Int16Array {
  const dec = new OpusDecoder();
  const out = new Int16Array(packets.length * FRAME);
  packets.forEach((p, i) => out.set(dec.decode(p), i * FRAME));
  return out;
}

/** The codec's delay in ms: the lag that best lines the output up with the input. */
function codecDelayMs(input: Int16Array, output: Int16Array): number {
  const from = 24000;
  const to = input.length - 2000;
  let best = 0;
  let bestScore = -Infinity;
  for (let lag = 0; lag <= 600; lag++) {
    let s = 0;
    for (let i = from; i < to; i++) s += (input[i] as number) * (output[i + lag] as number);
    if (s > bestScore) {
      bestScore = s;
      best = lag;
    }
  }
  return best / 48;
}

/** Waveform SNR of `output` against `input` over [from, to), at whichever codec delay (2.5 or 6.5 ms) fits best. */
function snrDb(input: Int16Array, output: Int16Array, from: number, to: number): number {
  let best = -Infinity;
  for (const lag of [120, 312]) {
    let err = 0;
    let sig = 0;
    for (let i = from; i < to; i++) {
      err += ((output[i + lag] as number) - (input[i] as number)) ** 2;
      sig += (input[i] as number) ** 2;
    }
    best = Math.max(best, 10 * Math.log10(sig / err));
  }
  return best;
}

function encoder(application: VoiceApplication, settings = CLEAN): VoiceEncoder {
  return new VoiceEncoder({ frameMs: 10, application, settings });
}

test("a clean path codes 'audio' in Opus's low-delay mode: 2.5 ms of codec delay instead of 6.5", () => {
  const speech = syllables(48000);
  const clean = encoder('audio');
  assert.equal(clean.application, 'lowdelay');
  const cleanDelay = codecDelayMs(speech, decodeAll(encodeAll(clean, speech)));
  const withFec = encoder('audio', LOSSY);
  assert.equal(withFec.application, 'audio');
  const fecDelay = codecDelayMs(speech, decodeAll(encodeAll(withFec, speech)));
  assert.ok(Math.abs(cleanDelay - 2.5) <= 0.5, `clean path delay ${cleanDelay} ms`);
  assert.ok(Math.abs(fecDelay - 6.5) <= 0.5, `FEC path delay ${fecDelay} ms`);
});

test('loss reported mid-stream: the swap to an FEC-capable encoder is heard as a clean mode transition, and its packets carry FEC', () => {
  const speech = syllables(2 * 48000);
  const enc = encoder('audio');
  const swapAt = 90; // 900 ms: mid-syllable (200 ms on, 200 ms off)
  const packets = encodeAll(enc, speech, (i) => i === swapAt && enc.apply(LOSSY));
  assert.equal(enc.application, 'audio');
  assert.equal(enc.applicationSwaps, 1);

  const out = decodeAll(packets);
  // The swap is heard as the decoder's own mode transition, not as a gap or a burst: the waveform right after it
  // is as faithful as the new encoder's steady state.
  const swap = swapAt * FRAME;
  const justAfter = snrDb(speech, out, swap, swap + 2 * FRAME);
  const steady = snrDb(speech, out, swap + 5 * FRAME, swap + 10 * FRAME);
  assert.ok(justAfter >= steady - 3, `SNR over the 20 ms after the swap ${justAfter.toFixed(1)} dB, steady state ${steady.toFixed(1)} dB`);

  const voiced = (s: number) => rmsDb(speech, s, s + FRAME) > -40;
  // After the swap a lost frame comes back from the next packet's in-band FEC.
  let recovered = 0;
  let voicedLost = 0;
  for (let i = swapAt + 20; i < packets.length - 1; i += 7) {
    if (!voiced(i * FRAME)) continue;
    voicedLost++;
    const dec = new OpusDecoder();
    for (let j = Math.max(0, i - 20); j < i; j++) dec.decode(packets[j] as Buffer);
    const fec = dec.decodeFec(packets[i + 1] as Buffer, FRAME);
    if (rmsDb(fec) > rmsDb(speech, i * FRAME, (i + 1) * FRAME) - 10) recovered++;
  }
  assert.ok(voicedLost >= 5 && recovered >= voicedLost * 0.8, `recovered ${recovered} of ${voicedLost} lost voiced frames from FEC`);
});

test('loss gone: back to low delay; settings that keep the application are applied in place', () => {
  const enc = encoder('audio', LOSSY);
  enc.apply({ ...LOSSY, bitrate: 48000, packetLossPercent: 20 });
  assert.equal(enc.applicationSwaps, 0);
  enc.apply(CLEAN);
  assert.equal(enc.application, 'lowdelay');
  assert.equal(enc.applicationSwaps, 1);
});

test("'voip' keeps its application whatever the loss", () => {
  const enc = encoder('voip');
  enc.apply(LOSSY);
  enc.apply(CLEAN);
  assert.equal(enc.application, 'voip');
  assert.equal(enc.applicationSwaps, 0);
});

test('5 ms frames on a clean path become 10 ms frames while FEC is on (SILK codes no shorter), and come back', () => {
  const speech = syllables(48000);
  const enc = new VoiceEncoder({ frameMs: 5, application: 'audio', settings: CLEAN });
  assert.equal(enc.frameSamples, 240);
  const dec = new OpusDecoder();
  const sizes: number[] = [];
  let at = 0;
  // 50 frames clean, 50 with FEC, 50 clean again: each coded at the size the encoder asks for, all decoded in order.
  for (const [settings, frames] of [[CLEAN, 50], [LOSSY, 50], [CLEAN, 50]] as const) {
    enc.apply(settings);
    for (let i = 0; i < frames; i++) {
      const n = enc.frameSamples;
      const pcm = dec.decode(enc.encode(speech.subarray(at, at + n)));
      sizes.push(pcm.length);
      at += n;
    }
  }
  assert.deepEqual([...new Set(sizes.slice(0, 50))], [240]);
  assert.deepEqual([...new Set(sizes.slice(50, 100))], [480]);
  assert.deepEqual([...new Set(sizes.slice(100))], [240]);
  assert.equal(enc.applicationSwaps, 2);
  // A clean 5 ms path keeps the low-delay mode; FEC frames carry the previous frame's copy.
  assert.equal(enc.application, 'lowdelay');
});

test("'voip' at 5 ms still moves to 10 ms frames for FEC, without changing its application", () => {
  const enc = new VoiceEncoder({ frameMs: 5, application: 'voip', settings: CLEAN });
  enc.apply(LOSSY);
  assert.equal(enc.frameSamples, 480);
  assert.equal(enc.application, 'voip');
});
