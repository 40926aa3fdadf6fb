// Draws level meters on a canvas from the station's meter stream, once per animation frame, outside
// React: meter frames arrive at 20+ Hz and must not re-render the page.
import { METER_FLOOR_DB, type EventPayload, type Meter } from '../../../electron/common/contract';

export interface MeterChannel {
  /** 'input', 'output', 'line:NAME' for what a line plays, or a remote station id. */
  key: string;
  label: string;
}

export const SCALE_MIN_DB = -60;
export const SCALE_MAX_DB = 0;
const TICKS_DB = [0, -6, -12, -18, -24, -36, -48, -60];
const PEAK_HOLD_MS = 1500;
const PEAK_DECAY_DB_PER_S = 20;
const ROW_HEIGHT = 30;
const SCALE_HEIGHT = 18;
const LABEL_WIDTH = 120;
const VALUE_WIDTH = 64;
/** Readouts (role="meter") change at a pace a screen reader and a test can follow, not per frame. */
const READOUT_EVERY_MS = 200;

interface Hold {
  db: number;
  until: number;
}

export function levelFraction(db: number): number {
  return Math.min(1, Math.max(0, (db - SCALE_MIN_DB) / (SCALE_MAX_DB - SCALE_MIN_DB)));
}

export function formatDb(db: number): string {
  return db <= METER_FLOOR_DB ? '−∞' : `${db.toFixed(1)}`;
}

export class MeterBoard {
  private channels: MeterChannel[] = [];
  private latest: EventPayload<'meters'> | null = null;
  private readonly holds = new Map<string, Hold>();
  private frame = 0;
  private lastLabelAt = 0;
  private lastReadoutAt = 0;

  /** `readouts` holds one `[data-meter=KEY]` element per channel: the canvas is opaque to assistive technology. */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly readouts: HTMLElement | null = null,
    /** Room for the channel names left of the bars; a strip's single meter needs less. */
    private readonly labelWidth = LABEL_WIDTH,
  ) {}

  setChannels(channels: MeterChannel[]): void {
    this.channels = channels;
    const cssHeight = SCALE_HEIGHT + channels.length * ROW_HEIGHT;
    this.canvas.style.height = `${cssHeight}px`;
    this.resize();
  }

  push(frame: EventPayload<'meters'>): void {
    this.latest = frame;
  }

  start(): void {
    const loop = (now: number) => {
      this.draw(now);
      this.frame = requestAnimationFrame(loop);
    };
    this.frame = requestAnimationFrame(loop);
  }

  stop(): void {
    cancelAnimationFrame(this.frame);
  }

  resize(): void {
    const ratio = window.devicePixelRatio || 1;
    const { width } = this.canvas.getBoundingClientRect();
    const height = SCALE_HEIGHT + this.channels.length * ROW_HEIGHT;
    this.canvas.width = Math.max(1, Math.round(width * ratio));
    this.canvas.height = Math.max(1, Math.round(height * ratio));
  }

  private meterFor(key: string): Meter {
    const frame = this.latest;
    const silent = { peakDb: METER_FLOOR_DB, rmsDb: METER_FLOOR_DB };
    if (!frame) return silent;
    if (key === 'input') return frame.input;
    if (key === 'output') return frame.output;
    if (key.startsWith('line:')) return frame.lines?.[key.slice(5)] ?? silent;
    return frame.peers[key] ?? silent;
  }

  private holdFor(key: string, peakDb: number, now: number): number {
    const hold = this.holds.get(key);
    if (!hold || peakDb >= hold.db) {
      this.holds.set(key, { db: peakDb, until: now + PEAK_HOLD_MS });
      return peakDb;
    }
    if (now > hold.until) {
      hold.db = Math.max(peakDb, hold.db - (PEAK_DECAY_DB_PER_S * (now - hold.until)) / 1000);
      hold.until = now;
    }
    return hold.db;
  }

  private updateReadouts(): void {
    if (!this.readouts) return;
    for (const element of this.readouts.querySelectorAll<HTMLElement>('[data-meter]')) {
      const channel = this.channels.find((candidate) => candidate.key === element.dataset.meter);
      if (!channel) continue;
      const meter = this.meterFor(channel.key);
      // aria-valuenow stays inside the drawn scale; the exact values ride in data attributes.
      element.setAttribute('aria-valuenow', Math.min(SCALE_MAX_DB, Math.max(SCALE_MIN_DB, meter.peakDb)).toFixed(1));
      element.setAttribute('aria-valuetext', `${channel.label}: peak ${formatDb(meter.peakDb)} dBFS, RMS ${formatDb(meter.rmsDb)} dBFS`);
      element.dataset.peakDb = meter.peakDb.toFixed(1);
      element.dataset.rmsDb = meter.rmsDb.toFixed(1);
    }
  }

  private draw(now: number): void {
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.width / ratio;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, this.canvas.height / ratio);
    const barLeft = this.labelWidth;
    const barWidth = Math.max(40, width - this.labelWidth - VALUE_WIDTH);
    const x = (db: number) => barLeft + levelFraction(db) * barWidth;

    context.font = '11px system-ui, sans-serif';
    context.fillStyle = '#9aa4b2';
    context.textAlign = 'center';
    // On a narrow bar the scale keeps only the labels that do not run into the previous one (0 dB always).
    let lastLabel = Infinity;
    for (const tick of TICKS_DB) {
      if (lastLabel - x(tick) >= 22) {
        context.fillText(String(tick), x(tick), 12);
        lastLabel = x(tick);
      }
      context.fillRect(Math.round(x(tick)), SCALE_HEIGHT - 3, 1, 3);
    }

    const summary: string[] = [];
    this.channels.forEach((channel, row) => {
      const top = SCALE_HEIGHT + row * ROW_HEIGHT + 4;
      const height = ROW_HEIGHT - 10;
      const meter = this.meterFor(channel.key);
      const hold = this.holdFor(channel.key, meter.peakDb, now);

      context.textAlign = 'left';
      context.fillStyle = '#e6e9ee';
      context.font = '13px system-ui, sans-serif';
      context.fillText(channel.label, 4, top + height - 5, this.labelWidth - 10);

      context.fillStyle = '#1d232b';
      context.fillRect(barLeft, top, barWidth, height);
      // Colour zones: green to -18, amber to -6, red above.
      const zones: [number, number, string][] = [
        [SCALE_MIN_DB, -18, '#3ecf6e'],
        [-18, -6, '#e8c547'],
        [-6, SCALE_MAX_DB, '#ef5350'],
      ];
      for (const [from, to, colour] of zones) {
        const level = Math.min(meter.peakDb, to);
        if (level <= from) continue;
        context.fillStyle = colour;
        context.fillRect(x(from), top, x(level) - x(from), height);
      }
      // RMS as a darker inner band.
      context.fillStyle = 'rgba(0, 0, 0, 0.35)';
      context.fillRect(barLeft, top + height * 0.7, x(meter.rmsDb) - barLeft, height * 0.3);
      if (hold > SCALE_MIN_DB) {
        context.fillStyle = '#ffffff';
        context.fillRect(Math.round(x(hold)) - 1, top, 2, height);
      }

      context.textAlign = 'right';
      context.fillStyle = '#e6e9ee';
      context.font = '12px ui-monospace, monospace';
      context.fillText(formatDb(meter.peakDb), width - 4, top + height - 5);

      const datasetKey = channel.key.replace(/[^A-Za-z0-9]/g, '_');
      this.canvas.dataset[`peak${datasetKey}`] = meter.peakDb.toFixed(1);
      this.canvas.dataset[`hold${datasetKey}`] = hold.toFixed(1);
      summary.push(`${channel.label} ${formatDb(meter.peakDb)} dB`);
    });

    if (now - this.lastReadoutAt >= READOUT_EVERY_MS) {
      this.lastReadoutAt = now;
      this.updateReadouts();
    }
    // The accessible summary changes at a readable pace, not per frame.
    if (now - this.lastLabelAt > 1000) {
      this.lastLabelAt = now;
      this.canvas.setAttribute('aria-label', `Levels, peak dBFS: ${summary.join(', ')}`);
    }
  }
}
