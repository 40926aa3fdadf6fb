/**
 * The control side's view of how each joined line travels, as the signalling server says (`line-carrier`): over the
 * mesh (a peer per member, the default) or through Janus. A remote needs a mesh peer only for the lines we share
 * with it that the mesh carries; on a Janus line we hear each member's feed and talk to the room instead.
 */
import type { LineCarrierMessage, Presence } from '../../common/signalling-protocol';
import type { LineKeys } from '../control/line-keys';
import type { LineMix, Routing } from '../media/media-protocol';
import { janusFeedId, janusTarget } from './feed-ids';

export type LineCarrier = Omit<LineCarrierMessage, 'type' | 'line'>;

export class StationLineCarriers {
  private readonly carriers = new Map<string, LineCarrier>();

  reset(): void {
    this.carriers.clear();
  }

  /** Records the server's word; true if the line changed carrier or Janus room. */
  apply(msg: LineCarrierMessage): boolean {
    const { type: _type, line, ...carrier } = msg;
    const before = JSON.stringify(this.carriers.get(line) ?? { carrier: 'mesh' });
    this.carriers.set(line, carrier);
    return JSON.stringify(carrier) !== before;
  }

  get(line: string): LineCarrier {
    return this.carriers.get(line) ?? { carrier: 'mesh' };
  }

  forget(keep: string[]): void {
    for (const line of [...this.carriers.keys()]) if (!keep.includes(line)) this.carriers.delete(line);
  }

  onJanus(line: string): boolean {
    return this.carriers.get(line)?.carrier === 'janus';
  }

  janusLines(): string[] {
    return [...this.carriers].filter(([, c]) => c.carrier === 'janus').map(([line]) => line);
  }

  /** The remote as the mesh sees it: only the lines the mesh carries. */
  meshView(p: Presence): Presence {
    if (this.janusLines().length === 0) return p;
    return { ...p, lines: p.lines.filter((l) => !this.onJanus(l)), talking: p.talking.filter((l) => !this.onJanus(l)) };
  }

  needsMesh(p: Presence): boolean {
    return this.meshView(p).lines.length > 0;
  }

  /**
   * Adds the Janus lines to the mesh's routing and line meters: our microphone to each Janus line we talk on, and
   * each member's feed on a Janus line at that line's volume while it talks there and we listen.
   */
  addJanus(routing: Routing, lineMix: LineMix, keys: LineKeys, roster: Iterable<Presence>): void {
    const talking = keys.talking();
    const janus = this.janusLines();
    if (janus.length === 0) return;
    const everyone = [...roster];
    const joined = keys.lines();
    for (const line of janus) {
      if (!joined.includes(line)) continue;
      const k = keys.get(line);
      if (talking.includes(line)) routing.sendTo.push(janusTarget(line));
      const mix = (lineMix[line] = {} as Record<string, number>);
      for (const p of everyone) {
        if (!p.lines.includes(line)) continue;
        const id = janusFeedId(line, p.stationId);
        const gain = k.listen && p.talking.includes(line) ? k.volume : 0;
        routing.gains[id] = gain;
        if (p.talking.includes(line)) mix[id] = k.listen ? k.volume : 0;
      }
    }
  }
}
