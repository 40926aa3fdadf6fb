/**
 * How the Opus encoder protects what we send. One encoder serves every remote we talk to, so it follows the worst
 * receiver among them: the loss each one reports in its RTCP receiver reports drives Opus's in-band FEC (on, and how
 * much loss it protects against) and the bitrate, raised so that the FEC copy does not eat into the primary frame.
 *
 * Pure policy: reports and times go in, encoder settings come out; it reads no clock.
 */

export interface EncoderSettings {
  bitrate: number;
  fec: boolean;
  /** 0..100: the loss Opus sizes its FEC for. */
  packetLossPercent: number;
}

export interface SenderAdaptationOptions {
  /** Bitrate on a clean path. */
  baseBitrate: number;
  /** Ceiling for the loss-driven increase. */
  maxBitrate?: number;
  /** A receiver that has not reported for this long no longer counts (it stopped receiving, or left). */
  reportTimeoutMs?: number;
}

/** Smoothing of one receiver's reports (one every 0.5–1.5 s from werift and browsers). Loss rises fast, decays slowly. */
const ATTACK = 0.6;
const RELEASE = 0.15;
/** FEC switches on above this smoothed loss and off below the lower bound: no flapping on a marginal path. */
const FEC_ON = 0.01;
const FEC_OFF = 0.003;
/** Opus never needs to plan for more: beyond this, FEC is as strong as it gets. */
const MAX_LOSS_PERCENT = 40;
/** Each unit of loss adds this much bitrate (relative): libopus spends up to about the primary rate again on LBRR. */
const BITRATE_PER_LOSS = 2;
/** A little protection costs almost nothing and covers the first losses before any report arrives. */
const FLOOR_LOSS_PERCENT = 1;

interface ReceiverLoss {
  smoothed: number;
  lastReportMs: number;
}

export class SenderAdaptation {
  private readonly receivers = new Map<string, ReceiverLoss>();
  private readonly baseBitrate: number;
  private readonly maxBitrate: number;
  private readonly reportTimeoutMs: number;
  private fec = false;

  constructor(options: SenderAdaptationOptions) {
    this.baseBitrate = options.baseBitrate;
    this.maxBitrate = Math.max(options.maxBitrate ?? 64000, options.baseBitrate);
    this.reportTimeoutMs = options.reportTimeoutMs ?? 10_000;
  }

  /** A receiver's report: `fractionLost` (0..1) over its last interval, as RTCP carries it. */
  report(receiverId: string, fractionLost: number, nowMs: number): void {
    const loss = Math.min(1, Math.max(0, fractionLost));
    const r = this.receivers.get(receiverId);
    if (!r) {
      this.receivers.set(receiverId, { smoothed: loss, lastReportMs: nowMs });
      return;
    }
    const alpha = loss > r.smoothed ? ATTACK : RELEASE;
    r.smoothed += alpha * (loss - r.smoothed);
    r.lastReportMs = nowMs;
  }

  forget(receiverId: string): void {
    this.receivers.delete(receiverId);
  }

  /** The smoothed loss of the worst receiver among `targets` that has reported recently; 0 if none has. */
  worstLoss(targets: Iterable<string>, nowMs: number): number {
    let worst = 0;
    for (const id of targets) {
      const r = this.receivers.get(id);
      if (r && nowMs - r.lastReportMs <= this.reportTimeoutMs && r.smoothed > worst) worst = r.smoothed;
    }
    return worst;
  }

  /** A receiver's smoothed loss, or null if it has not reported (recently). */
  reportedLoss(receiverId: string, nowMs: number): number | null {
    const r = this.receivers.get(receiverId);
    return r && nowMs - r.lastReportMs <= this.reportTimeoutMs ? r.smoothed : null;
  }

  /** Settings for sending to `targets` now. */
  settings(targets: Iterable<string>, nowMs: number): EncoderSettings {
    const loss = this.worstLoss(targets, nowMs);
    if (loss >= FEC_ON) this.fec = true;
    else if (loss < FEC_OFF) this.fec = false;
    const packetLossPercent = Math.min(MAX_LOSS_PERCENT, Math.max(FLOOR_LOSS_PERCENT, Math.ceil(loss * 100)));
    const bitrate = this.fec ? Math.min(this.maxBitrate, roundTo(this.baseBitrate * (1 + BITRATE_PER_LOSS * (packetLossPercent / 100)), 1000)) : this.baseBitrate;
    return { bitrate, fec: this.fec, packetLossPercent };
  }
}

function roundTo(value: number, step: number): number {
  return Math.round(value / step) * step;
}
