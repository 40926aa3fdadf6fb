import { CALL_TIMEOUT_MS, type CallEndReason, type RelayedCall } from '../common/signalling-protocol';

interface ActiveCall {
  from: string;
  name: string;
  timer: NodeJS.Timeout;
}

/**
 * The call signals flashing on each line, one per line: the server owns them, so every member sees the same call
 * start and end (answered, cancelled, timed out, or its caller left), whichever station's clock runs how.
 */
export class LineCalls {
  private readonly calls = new Map<string, ActiveCall>();

  /** `deliver` sends a call message to every member of the line (the caller too). */
  constructor(
    private readonly deliver: (line: string, msg: RelayedCall) => void,
    private readonly timeoutMs = CALL_TIMEOUT_MS,
  ) {}

  /** A new call on a line replaces the one flashing there (its caller sees it end as answered by the new caller). */
  start(line: string, from: { id: string; name: string }): void {
    if (this.calls.has(line)) this.end(line, 'answered', from);
    const timer = setTimeout(() => this.end(line, 'timeout'), this.timeoutMs);
    timer.unref();
    this.calls.set(line, { from: from.id, name: from.name, timer });
    this.deliver(line, { type: 'call', line, on: true, from: from.id, name: from.name });
  }

  /** A member answers the call (the caller cancels it); nothing flashing there is nothing to do. */
  answer(line: string, by: { id: string; name: string }): void {
    const call = this.calls.get(line);
    if (!call) return;
    this.end(line, call.from === by.id ? 'cancelled' : 'answered', by);
  }

  /** The station left these lines (or the server): its calls end. */
  leave(stationId: string, lines: Iterable<string>): void {
    for (const line of lines) if (this.calls.get(line)?.from === stationId) this.end(line, 'left');
  }

  /** The calls flashing on these lines now, as a newcomer must see them. */
  active(lines: Iterable<string>): RelayedCall[] {
    const out: RelayedCall[] = [];
    for (const line of lines) {
      const call = this.calls.get(line);
      if (call) out.push({ type: 'call', line, on: true, from: call.from, name: call.name });
    }
    return out;
  }

  close(): void {
    for (const call of this.calls.values()) clearTimeout(call.timer);
    this.calls.clear();
  }

  private end(line: string, reason: CallEndReason, by?: { id: string; name: string }): void {
    const call = this.calls.get(line);
    if (!call) return;
    clearTimeout(call.timer);
    this.calls.delete(line);
    this.deliver(line, {
      type: 'call',
      line,
      on: false,
      from: call.from,
      name: call.name,
      reason,
      ...(reason === 'answered' && by ? { by: { stationId: by.id, name: by.name } } : {}),
    });
  }
}
