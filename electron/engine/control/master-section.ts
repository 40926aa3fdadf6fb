import type { MasterState } from '../../common/contract';
import type { Routing } from '../media/media-protocol';

/** The master section's microphone mute and speaker volume, and what the mute means for talk. */
export class MasterSection {
  micMuted = false;
  volume = 1;
  callTone = false;

  state(): MasterState {
    return { micMuted: this.micMuted, volume: this.volume, callTone: this.callTone };
  }

  /** The lines we tell signalling we talk on: none while muted, so no panel shows a muted station as a talker. */
  talking(keyed: string[]): string[] {
    return this.micMuted ? [] : keyed;
  }

  /** While muted the microphone goes to nobody; what we hear is untouched. */
  routing(keyed: Routing): Routing {
    return this.micMuted ? { ...keyed, sendTo: [] } : keyed;
  }
}
