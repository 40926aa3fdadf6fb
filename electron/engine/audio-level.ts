/**
 * RFC 6464 client-to-mixer audio level: the level of one frame in -dBov, 0 (loudest) to 127 (silence), carried in
 * an RTP header extension so a receiver knows who is talking without decoding.
 */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
export const SILENT_LEVEL = 127;

/** Louder than this (in dBov) counts as speech; a disabled browser track reports 127, room noise sits far below. */
const SPEAKING_DBOV = -50;
/** Speech keeps "speaking" lit across the short pauses between words. */
const SPEAKING_HOLD_MS = 400;

export function frameAudioLevel(pcm: Int16Array): number {
  if (pcm.length === 0) return SILENT_LEVEL;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) {
    const v = (pcm[i] as number) / 32768;
    sum += v * v;
  }
  const rms = Math.sqrt(sum / pcm.length);
  if (rms <= 0) return SILENT_LEVEL;
  return Math.max(0, Math.min(SILENT_LEVEL, Math.round(-20 * Math.log10(rms))));
}

/** The audio level byte: V (voice activity, unused by receivers here) in the top bit, the level below. */
export function encodeAudioLevel(level: number, voice: boolean): Buffer {
  return Buffer.of((voice ? 0x80 : 0) | (Math.max(0, Math.min(SILENT_LEVEL, Math.round(level))) & 0x7f));
}

export function decodeAudioLevel(payload: Buffer): number | undefined {
  return payload.length >= 1 ? (payload[0] as number) & 0x7f : undefined;
}

/** The remote's talking state from the levels it reports per packet. */
export class SpeakingDetector {
  private lastLoudAt = -Infinity;
  private lastLevelAt = -Infinity;
  /** Loudest level (dBov) since the last read; reading resets it. */
  private peakDbov = -SILENT_LEVEL;

  note(level: number, nowMs: number): void {
    const dbov = -level;
    this.lastLevelAt = nowMs;
    if (dbov > this.peakDbov) this.peakDbov = dbov;
    if (dbov > SPEAKING_DBOV) this.lastLoudAt = nowMs;
  }

  /** Whether the remote sends levels at all (it negotiated the extension and RTP flows). */
  reporting(nowMs: number): boolean {
    return nowMs - this.lastLevelAt < 1000;
  }

  speaking(nowMs: number): boolean {
    return nowMs - this.lastLoudAt < SPEAKING_HOLD_MS;
  }

  readPeakDbov(): number {
    const peak = this.peakDbov;
    this.peakDbov = -SILENT_LEVEL;
    return peak;
  }
}
