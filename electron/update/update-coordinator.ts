import type { UpdateOffer, UpdateService } from './update-service';

/** What the engine is doing that a restart would cut off. */
export interface EngineActivity {
  /** Talk keys currently latched on (a latched key means someone is mid-sentence, hands-free). */
  latchedTalkKeys: number;
  /** Party lines with audio flowing right now. */
  activeLines: number;
}

/** Asked before restarting over live audio; resolves true only if the user accepts cutting it off. */
export type ConfirmRestart = (question: { offer: UpdateOffer; activity: EngineActivity }) => Promise<boolean>;

export type RestartOutcome =
  | { restarted: true; offer: UpdateOffer; confirmed: boolean }
  | { restarted: false; reason: 'no-update' | 'declined' };

/**
 * The restart policy: an intercom must not drop off the air for an update. Restarting is immediate when the
 * engine is idle; with a latched talk key or an active line it happens only if the user confirms.
 */
export class UpdateCoordinator {
  constructor(
    private readonly service: UpdateService,
    private readonly engineActivity: () => EngineActivity,
    private readonly confirm: ConfirmRestart,
  ) {}

  async restartToUpdate(): Promise<RestartOutcome> {
    const offer = this.service.downloaded;
    if (!offer) return { restarted: false, reason: 'no-update' };
    const activity = this.engineActivity();
    const busy = activity.latchedTalkKeys > 0 || activity.activeLines > 0;
    if (busy) {
      const accepted = await this.confirm({ offer, activity });
      // The user may have taken seconds to answer: only the answer matters, not whether it went quiet meanwhile.
      if (!accepted) return { restarted: false, reason: 'declined' };
    }
    this.service.quitAndInstall();
    return { restarted: true, offer, confirmed: busy };
  }
}
