import type { Presence } from '../../common/signalling-protocol';
import type { LineMix, Routing } from '../media/media-protocol';

export interface LineKey {
  talk: boolean;
  listen: boolean;
  volume: number;
}

/**
 * A station's keys on each line it joined, and what they mean for the media: the microphone goes to every remote
 * that shares a line we talk on; every remote that talks to us is heard at the volume of the loudest line we listen
 * to it on.
 */
export class LineKeys {
  private readonly keys = new Map<string, LineKey>();

  reset(lines: string[]): void {
    this.keys.clear();
    for (const l of lines) this.keys.set(l, { talk: false, listen: true, volume: 1 });
  }

  /** Changes the joined lines on air: keys of the lines kept stay as they are, new lines start listening at 1. */
  setLines(lines: string[]): void {
    for (const line of [...this.keys.keys()]) if (!lines.includes(line)) this.keys.delete(line);
    for (const line of lines) if (!this.keys.has(line)) this.keys.set(line, { talk: false, listen: true, volume: 1 });
  }

  lines(): string[] {
    return [...this.keys.keys()];
  }

  /** The keys of a joined line; an error naming the field `line` otherwise. */
  get(line: string): LineKey {
    const k = this.keys.get(line);
    if (!k) throw Object.assign(new Error(`line "${line}" is not joined by this station`), { code: 'invalid', field: 'line' });
    return k;
  }

  talking(): string[] {
    return [...this.keys].filter(([, k]) => k.talk).map(([line]) => line);
  }

  /** The gain a remote is heard at: the loudest line we listen on among those it talks on, 0 if none. */
  gainFor(presence: Presence): number {
    let gain = 0;
    for (const line of presence.talking) {
      const k = this.keys.get(line);
      if (k?.listen && k.volume > gain) gain = k.volume;
    }
    return gain;
  }

  /** What each line plays: the remotes talking there, at the line's volume while we listen to it (its meter's feed). */
  lineMix(remotes: Iterable<Presence>): LineMix {
    const mix: LineMix = {};
    for (const line of this.keys.keys()) mix[line] = {};
    for (const p of remotes) {
      for (const line of p.talking) {
        const k = this.keys.get(line);
        const gains = mix[line];
        if (k && gains) gains[p.stationId] = k.listen ? k.volume : 0;
      }
    }
    return mix;
  }

  /** Who hears our microphone and how loud each remote plays, for the media side. */
  routing(remotes: Iterable<Presence>): Routing {
    const talking = this.talking();
    const sendTo: string[] = [];
    const gains: Record<string, number> = {};
    for (const p of remotes) {
      if (talking.length > 0 && p.lines.some((l) => talking.includes(l))) sendTo.push(p.stationId);
      gains[p.stationId] = this.gainFor(p);
    }
    return { sendTo, gains };
  }
}
