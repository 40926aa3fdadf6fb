/**
 * The control side's view of how each joined line travels, as the signalling server says (`line-carrier`): over the
 * mesh (a peer per member, the default) or through Janus. A remote needs a mesh peer only for the lines we share
 * with it that the mesh carries; on a Janus line we hear each member's feed and talk to the room instead.
 */
import type { LineState } from '../../common/contract';
import type { LineCarrierMessage, Presence } from '../../common/signalling-protocol';
import type { LineKeys } from '../control/line-keys';
import type { LineMix, Routing } from '../media/media-protocol';
import { janusFeedId, janusTarget } from './feed-ids';

export type LineCarrier = Omit<LineCarrierMessage, 'type' | 'line'>;
type RoomState = NonNullable<NonNullable<LineState['carrier']>['janus']>;

export class StationLineCarriers {
  private readonly carriers = new Map<string, LineCarrier>();
  /** Per Janus line: our connection to its room, and why it is not up. */
  private readonly rooms = new Map<string, { state: RoomState; detail: string }>();

  reset(): void {
    this.carriers.clear();
    this.rooms.clear();
  }

  /** We asked the media side to join the line's room at `url`. */
  joiningRoom(line: string, url: string): void {
    this.rooms.set(line, { state: 'connecting', detail: url });
  }

  /** The media side's word on a room; false when it is about a line no longer on Janus (or a room it closed). */
  roomReport(line: string, state: RoomState, detail: string): boolean {
    if (state === 'closed' || !this.onJanus(line)) return false;
    this.rooms.set(line, { state, detail });
    return true;
  }

  /** Forgets our room on `line`: true when we were in one, which the media side must then leave. */
  leaveRoom(line: string): boolean {
    return this.rooms.delete(line);
  }

  /** How a line travels now, for the panel and the control API. */
  state(line: string): NonNullable<LineState['carrier']> {
    const c = this.get(line);
    const room = this.rooms.get(line);
    return {
      kind: c.carrier,
      ...(c.carrier === 'janus' && room ? { janus: room.state } : {}),
      ...(c.janusError ? { error: c.janusError } : room?.state === 'failed' ? { error: room.detail } : {}),
    };
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
