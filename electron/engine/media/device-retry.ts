/**
 * When to try a lost device again. A device that went while on air (unplugged, taken by another program, its sound
 * server restarted) is tried at once, then every second for a while, since a headset plugged back in or a sound
 * server coming back is the common case; after that less often, since each try holds the media thread for a moment.
 */
export type Direction = 'input' | 'output';

export const RETRY_FAST_MS = 1000;
export const RETRY_FAST_FOR_MS = 30_000;
export const RETRY_SLOW_MS = 5000;

export class DeviceRetry {
  private readonly lostAt = new Map<Direction, number>();
  private readonly nextAt = new Map<Direction, number>();

  /** The device of `direction` went: it is due now (a second loss while retrying keeps the first one's age). */
  lost(direction: Direction, now: number): void {
    if (!this.lostAt.has(direction)) this.lostAt.set(direction, now);
    this.nextAt.set(direction, now);
  }

  /** The chosen device is on air again, or someone chose anew: no more tries. */
  settled(direction: Direction): void {
    this.lostAt.delete(direction);
    this.nextAt.delete(direction);
  }

  pending(direction: Direction): boolean {
    return this.lostAt.has(direction);
  }

  get active(): boolean {
    return this.lostAt.size > 0;
  }

  /** The directions due for a try now; each is then due again after the interval its age calls for. */
  due(now: number): Direction[] {
    const due: Direction[] = [];
    for (const [direction, at] of this.nextAt) {
      if (at > now) continue;
      due.push(direction);
      const age = now - (this.lostAt.get(direction) ?? now);
      this.nextAt.set(direction, now + (age < RETRY_FAST_FOR_MS ? RETRY_FAST_MS : RETRY_SLOW_MS));
    }
    return due;
  }
}
