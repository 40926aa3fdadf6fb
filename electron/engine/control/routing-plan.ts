import type { Presence } from '../../common/signalling-protocol';
import { janusFeedId } from '../janus/feed-ids';
import type { StationLineCarriers } from '../janus/line-carriers';
import type { LineMix, Routing } from '../media/media-protocol';
import type { DirectTalk } from './direct-talk';
import type { LineKeys } from './line-keys';
import type { MasterSection } from './master-section';

/** The operator's keys: line keys, the master section and private talk. */
export interface Panel {
  keys: LineKeys;
  master: MasterSection;
  direct: DirectTalk;
}

/**
 * What the mixer needs from the panel: where our microphone goes and how loud each remote (or Janus feed) plays, and
 * what each line's meter mixes. `called`: the stations we have mesh calls with; `roll`: everyone presence lists.
 */
export function routingPlan(panel: Panel, carriers: StationLineCarriers, called: Presence[], roll: Iterable<Presence>): { routing: Routing; lineMix: LineMix } {
  const presences = called.map((p) => carriers.meshView(p));
  const lineMix = panel.keys.lineMix(presences);
  const keyed = panel.keys.routing(presences);
  carriers.addJanus(keyed, lineMix, panel.keys, roll);
  // A station talking to us alone is heard on its call; its feed on a Janus line carries the same microphone, later.
  for (const talker of panel.direct.state().incoming) {
    if (!called.some((p) => p.stationId === talker.stationId)) continue;
    for (const line of carriers.janusLines()) {
      const feed = janusFeedId(line, talker.stationId);
      if (feed in keyed.gains) keyed.gains[feed] = 0;
    }
  }
  return { routing: panel.master.routing(panel.direct.routing(keyed)), lineMix };
}

/** Passes a value on only when it differs from the last one passed (as JSON), as a copy the caller cannot change. */
export class SendOnChange<T> {
  private last = '';

  constructor(private readonly send: (value: T) => void) {}

  offer(value: T): void {
    const text = JSON.stringify(value);
    if (text === this.last) return;
    this.last = text;
    this.send(JSON.parse(text) as T);
  }
}
