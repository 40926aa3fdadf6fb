// Talk-key gesture: a tap latches talk on, a hold longer than the threshold is momentary (talk ends on
// release), and pressing a latched key unlatches it at once. The keypanel and the browser guest both key by it.

/** A press at least this long is momentary; shorter latches (the keypanel's setting defaults to it). */
export const DEFAULT_TALK_HOLD_MS = 300;

export interface TalkGesture {
  /** The key was already latched on when pressed: this press is the unlatch. */
  unlatching: boolean;
  pressedAt: number;
}

export function pressTalk(talking: boolean, now: number): { talk: boolean; gesture: TalkGesture } {
  return { talk: !talking, gesture: { unlatching: talking, pressedAt: now } };
}

/** The talk state to set on release, or null to leave it as it is. */
export function releaseTalk(gesture: TalkGesture, now: number, holdThresholdMs: number): boolean | null {
  if (gesture.unlatching) return null;
  return now - gesture.pressedAt >= holdThresholdMs ? false : null;
}
