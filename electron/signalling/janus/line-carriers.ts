/**
 * Which lines Janus carries, decided by the signalling server: lines configured for Janus, and lines that grew past
 * `janusAbove` members (they stay on Janus until they empty, so a line hovering at the threshold does not flap). A
 * line is moved to Janus once its room exists, back to the mesh when Janus is unreachable or goes (with the reason),
 * and to Janus again when it is back. Members learn each change as a `line-carrier` message.
 */
import type { LineCarrierMessage } from '../../common/signalling-protocol';
import type { JanusRooms } from './janus-rooms';

export interface CarrierPolicy {
  /** Lines always carried by Janus (`--line name:secret:janus`). */
  janusLines: Iterable<string>;
  /** Any line with more members than this moves to Janus. */
  janusAbove?: number;
  /** The most members a mesh carries well: a Janus line falling back to the mesh beyond this says so. */
  meshLimit: number;
}

export interface CarrierHooks {
  members(line: string): number;
  broadcast(line: string, msg: LineCarrierMessage): void;
  log(line: string): void;
}

export class LineCarriers {
  private readonly janusLines: Set<string>;
  /** The carrier each line not on the plain mesh has now (what its members were last told). */
  private readonly current = new Map<string, LineCarrierMessage>();
  private readonly reviews = new Map<string, Promise<void>>();

  constructor(
    private readonly rooms: JanusRooms | undefined,
    private readonly policy: CarrierPolicy,
    private readonly hooks: CarrierHooks,
  ) {
    this.janusLines = new Set(policy.janusLines);
    rooms?.on('lost', (reason) => {
      hooks.log(`janus lost: ${reason}`);
      for (const line of this.current.keys()) this.review(line);
    });
    rooms?.on('up', () => {
      hooks.log('janus up');
      for (const line of new Set([...this.current.keys(), ...this.janusLines])) this.review(line);
    });
  }

  /** What a member joining these lines must hear about them, right after its `joined`. */
  messagesFor(lines: Iterable<string>): LineCarrierMessage[] {
    return [...lines].flatMap((l) => {
      const m = this.current.get(l);
      return m ? [m] : [];
    });
  }

  /** Whether the line's media goes through Janus now. */
  carrier(line: string): LineCarrierMessage['carrier'] {
    return this.current.get(line)?.carrier ?? 'mesh';
  }

  /** Membership of these lines changed: decide their carriers again (one decision per line at a time). */
  review(line: string): void {
    const prior = this.reviews.get(line) ?? Promise.resolve();
    const next = prior.then(() => this.decide(line)).catch((e: Error) => this.hooks.log(`line ${line}: ${e.message}`));
    this.reviews.set(line, next);
    void next.then(() => {
      if (this.reviews.get(line) === next) this.reviews.delete(line);
    });
  }

  /** Settles once every decision under way is made (tests, close). */
  async settled(): Promise<void> {
    while (this.reviews.size > 0) await Promise.all([...this.reviews.values()]);
  }

  private async decide(line: string): Promise<void> {
    const members = this.hooks.members(line);
    const was = this.current.get(line);
    if (members === 0) {
      this.current.delete(line);
      await this.rooms?.destroyRoom(line);
      return;
    }
    const wanted = this.janusLines.has(line) || (this.policy.janusAbove !== undefined && members > this.policy.janusAbove) || was !== undefined;
    if (!wanted || !this.rooms) return;
    let next: LineCarrierMessage;
    if (this.rooms.up) {
      try {
        next = { type: 'line-carrier', line, carrier: 'janus', janus: await this.rooms.roomFor(line) };
      } catch (e) {
        next = this.fallback(line, (e as Error).message);
      }
    } else {
      next = this.fallback(line, this.rooms.problem ?? 'Janus is not connected');
    }
    if (JSON.stringify(next) === JSON.stringify(was)) return;
    this.current.set(line, next);
    this.hooks.log(`line ${line} on ${next.carrier}${next.janusError ? ` (${next.janusError})` : ''}`);
    this.hooks.broadcast(line, next);
  }

  private fallback(line: string, reason: string): LineCarrierMessage {
    const members = this.hooks.members(line);
    const crowded = members > this.policy.meshLimit ? `; ${members} members is above the ${this.policy.meshLimit} a mesh carries well` : '';
    return { type: 'line-carrier', line, carrier: 'mesh', janusError: `Janus unavailable: ${reason}${crowded}` };
  }
}
