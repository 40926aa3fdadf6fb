/**
 * Opus encode/decode cost per 10 ms frame: our binding against @discordjs/opus
 * (same libopus source, same settings) as the anchor, plus the packet loss
 * concealment difference that made us write our own binding.
 *
 * Run: npx tsx bench/codec.ts [seconds]
 */
import { syllables } from '../testkit/signal';
import { performance } from 'node:perf_hooks';
import { OpusDecoder, OpusEncoder, type OpusApplication } from '../native/opus/index';
import { segmentalSnr, speechLike } from './support/voice-quality';
import { SAMPLE_RATE as RATE } from '../native/audio-format';

interface AnchorCodec {
  encode(pcm: Buffer): Buffer;
  decode(packet: Buffer): Buffer;
  setBitrate(bps: number): void;
}
const Anchor = (require('@discordjs/opus') as { OpusEncoder: new (rate: number, channels: number) => AnchorCodec }).OpusEncoder;

const FRAME_SAMPLES = 480;
const BITRATE = 32000;

export interface CodecBenchSummary {
  bench: 'codec';
  ours_encode_us: number;
  ours_decode_us: number;
  anchor_encode_us: number;
  anchor_decode_us: number;
  ratio_encode: number;
  ratio_decode: number;
  /** Samples @discordjs/opus returns when asked to conceal (decode of an empty packet), or null if it throws. */
  anchor_plc_samples: number | null;
  ours_plc_samples: number;
  /** Segmental SNR of the speech-like reference through encode and decode alone, per Opus application (the station's choice). */
  segsnr_db: { audio: number; voip: number; audio_fec_10pct_loss: number; voip_fec_10pct_loss: number };
}

/**
 * Waveform fidelity of the codec alone (no network): encode and decode the impairment bench's speech-like reference
 * in 10 ms frames. With `lossPercent`, FEC is on and the encoder is told to expect that loss (as sender adaptation
 * does), which is when libopus spends bits on in-band FEC.
 */
function codecSegSnr(application: OpusApplication, lossPercent = 0): number {
  const reference = speechLike(8);
  const encoder = new OpusEncoder({ frameMs: 10, bitrate: BITRATE, fec: lossPercent > 0, packetLossPercent: lossPercent, application });
  const decoder = new OpusDecoder();
  const out = new Int16Array(reference.length);
  for (let at = 0; at + FRAME_SAMPLES <= reference.length; at += FRAME_SAMPLES) {
    out.set(decoder.decode(encoder.encode(reference.subarray(at, at + FRAME_SAMPLES))), at);
  }
  return round(segmentalSnr(reference, out, RATE, RATE * 7.5).segSnrDb);
}


/** Mean microseconds per call of `run` over every item. */
function timePerFrame<T>(items: readonly T[], run: (item: T) => unknown): number {
  const started = performance.now();
  for (const item of items) run(item);
  return ((performance.now() - started) * 1000) / items.length;
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

export function runCodecBench(seconds = 10): CodecBenchSummary {
  const signal = syllables(seconds * RATE);
  const frames: Int16Array[] = [];
  for (let at = 0; at + FRAME_SAMPLES <= signal.length; at += FRAME_SAMPLES) frames.push(signal.subarray(at, at + FRAME_SAMPLES));
  const anchorFrames = frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength));

  // Same settings on both sides: @discordjs/opus always uses the 'audio' application.
  const encoder = new OpusEncoder({ frameMs: 10, bitrate: BITRATE, fec: false, application: 'audio' });
  const decoder = new OpusDecoder();
  const anchor = new Anchor(RATE, 1);
  anchor.setBitrate(BITRATE);

  // Warm up both (JIT, caches, codec state) on the first second.
  const warmUp = frames.slice(0, 100);
  for (const f of warmUp) decoder.decode(encoder.encode(f));
  for (const f of anchorFrames.slice(0, 100)) anchor.decode(anchor.encode(f));

  const packets: Buffer[] = [];
  const oursEncode = timePerFrame(frames, (f) => packets.push(encoder.encode(f)));
  const oursDecode = timePerFrame(packets, (p) => decoder.decode(p));
  const anchorPackets: Buffer[] = [];
  const anchorEncode = timePerFrame(anchorFrames, (f) => anchorPackets.push(anchor.encode(f)));
  const anchorDecode = timePerFrame(anchorPackets, (p) => anchor.decode(p));

  let anchorPlc: number | null;
  let anchorPlcNote: string;
  try {
    anchorPlc = anchor.decode(Buffer.alloc(0)).length / 2;
    anchorPlcNote = `${anchorPlc} samples (${anchorPlc / (RATE / 1000)} ms) in one call`;
  } catch (err) {
    anchorPlc = null;
    anchorPlcNote = `throws: ${err instanceof Error ? err.message : String(err)}`;
  }
  const oursPlc = decoder.conceal(FRAME_SAMPLES).length;

  const summary: CodecBenchSummary = {
    bench: 'codec',
    ours_encode_us: round(oursEncode),
    ours_decode_us: round(oursDecode),
    anchor_encode_us: round(anchorEncode),
    anchor_decode_us: round(anchorDecode),
    ratio_encode: round(oursEncode / anchorEncode, 3),
    ratio_decode: round(oursDecode / anchorDecode, 3),
    anchor_plc_samples: anchorPlc,
    ours_plc_samples: oursPlc,
    segsnr_db: {
      audio: codecSegSnr('audio'),
      voip: codecSegSnr('voip'),
      audio_fec_10pct_loss: codecSegSnr('audio', 10),
      voip_fec_10pct_loss: codecSegSnr('voip', 10),
    },
  };

  console.log(`Opus, 48 kHz mono, 10 ms frames, ${BITRATE / 1000} kbit/s, ${frames.length} frames of speech-like signal`);
  console.log(`  encode  ours ${summary.ours_encode_us} us/frame   @discordjs/opus ${summary.anchor_encode_us} us/frame   ratio ${summary.ratio_encode}`);
  console.log(`  decode  ours ${summary.ours_decode_us} us/frame   @discordjs/opus ${summary.anchor_decode_us} us/frame   ratio ${summary.ratio_decode}`);
  console.log(`  packet loss concealment: @discordjs/opus decode(empty) -> ${anchorPlcNote}; ours conceal(480) -> ${oursPlc} samples`);
  const q = summary.segsnr_db;
  console.log(`  segmental SNR through the codec alone: 'audio' ${q.audio} dB, 'voip' ${q.voip} dB; expecting 10 % loss with FEC: 'audio' ${q.audio_fec_10pct_loss} dB, 'voip' ${q.voip_fec_10pct_loss} dB`);
  console.log(JSON.stringify(summary));
  return summary;
}

if (require.main === module) {
  const seconds = process.argv[2] === undefined ? 10 : Number(process.argv[2]);
  if (!Number.isInteger(seconds) || seconds < 2) throw new Error(`seconds must be an integer >= 2 (got ${process.argv[2]})`);
  runCodecBench(seconds);
}
