import type { LineCall } from '../../common/contract';
import type { RelayedCall } from '../../common/signalling-protocol';

/**
 * The call light of each joined line, as the signalling server says: lit from a call's start until it ends
 * (answered, cancelled, timed out, its caller gone). The server owns the timeout, so every member's light goes out
 * together.
 */
export class CallLights {
  private readonly lit = new Map<string, LineCall>();

  reset(): void {
    this.lit.clear();
  }

  /** The call flashing on a line, or null. */
  get(line: string): LineCall | null {
    return this.lit.get(line) ?? null;
  }

  /** Applies a call message; whether it changed a light. */
  apply(msg: RelayedCall): boolean {
    if (msg.on) {
      this.lit.set(msg.line, { from: msg.from, name: msg.name });
      return true;
    }
    const current = this.lit.get(msg.line);
    if (!current || current.from !== msg.from) return false;
    this.lit.delete(msg.line);
    return true;
  }

  /** Lines left: their lights go out here (the server no longer tells us about them). */
  keepOnly(lines: string[]): void {
    for (const line of [...this.lit.keys()]) if (!lines.includes(line)) this.lit.delete(line);
  }
}
