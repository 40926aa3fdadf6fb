import type { DirectState, Talker } from '../../common/contract';
import type { Routing } from '../media/media-protocol';

/** The gain a station talking to us alone plays at: full, whatever the line keys say. */
const DIRECT_GAIN = 1;
/**
 * How long a call made for private talk alone (every line we share is on Janus) outlives the talk: a reply, or the
 * next word, must not wait for a call to be set up again.
 */
export const DIRECT_CALL_LINGER_MS = 60_000;

/**
 * Private (point-to-point) talk: whom our microphone goes to alone, who talks to us alone, and the last of those,
 * whom the reply key answers. It rides on the peers the lines already gave us; signalling tells only the target.
 */
export class DirectTalk {
  private readonly to = new Map<string, Talker>();
  private readonly incoming = new Map<string, Talker>();
  private replyTo: Talker | null = null;
  /** When private talk with a station, either way, last ended (performance.now()). */
  private readonly endedAt = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  reset(): void {
    this.to.clear();
    this.incoming.clear();
    this.endedAt.clear();
    this.replyTo = null;
  }

  /** Whether private talk needs a call with this station: it goes on either way, or ended less than a linger ago. */
  needsCall(stationId: string): boolean {
    if (this.to.has(stationId) || this.incoming.has(stationId)) return true;
    const ended = this.endedAt.get(stationId);
    return ended !== undefined && this.now() - ended < DIRECT_CALL_LINGER_MS;
  }

  state(): DirectState {
    return { talkingTo: [...this.to.values()], incoming: [...this.incoming.values()], replyTo: this.replyTo };
  }

  /** Whether we talk to this station directly now. */
  talkingTo(stationId: string): boolean {
    return this.to.has(stationId);
  }

  setTalk(target: Talker, on: boolean): boolean {
    const was = this.to.has(target.stationId);
    if (on) this.to.set(target.stationId, target);
    else if (this.to.delete(target.stationId)) this.endedAt.set(target.stationId, this.now());
    return was !== on;
  }

  /** The station to reply to, or an error saying nobody has talked to us yet. */
  replyTarget(): Talker {
    if (!this.replyTo) throw Object.assign(new Error('nobody has talked to this station directly yet: nothing to reply to'), { code: 'failed' });
    return this.replyTo;
  }

  heard(from: Talker, on: boolean): void {
    if (on) {
      this.incoming.set(from.stationId, from);
      this.replyTo = from;
    } else if (this.incoming.delete(from.stationId)) {
      this.endedAt.set(from.stationId, this.now());
    }
  }

  /** A station gone: it neither hears nor talks to us any more (the reply key still names it until someone else talks). */
  forget(stationId: string): void {
    this.to.delete(stationId);
    this.incoming.delete(stationId);
    this.endedAt.delete(stationId);
  }

  /** The line routing plus private talk: our microphone to our direct targets, direct talkers at full gain. */
  routing(lines: Routing): Routing {
    const sendTo = [...lines.sendTo];
    for (const id of this.to.keys()) if (!sendTo.includes(id)) sendTo.push(id);
    const gains = { ...lines.gains };
    for (const id of this.incoming.keys()) gains[id] = Math.max(gains[id] ?? 0, DIRECT_GAIN);
    return { sendTo, gains };
  }
}
