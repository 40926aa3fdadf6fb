// Transport-neutral command dispatch: every transport (Electron IPC, the WebSocket bridge) hands raw,
// untrusted messages here; nothing reaches the station unvalidated and nothing leaves it unvalidated.
import type { DispatchResult } from '../common/control-client';
import {
  type CommandName,
  type ControlError,
  type EventName,
  type EventPayload,
  type StationControl,
  validateCommand,
  validateCommandOutput,
  validateEvent,
} from '../common/contract';

export type Transport = 'ipc' | 'websocket';

export type { DispatchResult } from '../common/control-client';

export type ValidEventListener = <E extends EventName>(name: E, payload: EventPayload<E>) => void;

export interface DispatcherOptions {
  transport: Transport;
  /** Where contract violations by the station itself go (a bug, not the caller's fault). */
  reportFault?: (message: string) => void;
}

export class ControlDispatcher {
  private readonly listeners = new Set<ValidEventListener>();
  private unsubscribeStation: (() => void) | null = null;
  private readonly reportFault: (message: string) => void;

  constructor(
    private readonly station: StationControl,
    private readonly options: DispatcherOptions,
  ) {
    this.reportFault = options.reportFault ?? ((message) => console.error(`[control] ${message}`));
  }

  /** Runs one command from an untrusted caller. Never throws: failures come back as typed errors. */
  async dispatch(name: unknown, input: unknown): Promise<DispatchResult> {
    const checked = validateCommand(typeof name === 'string' ? name : String(name), input);
    if (!checked.ok) return checked;
    const command = name as CommandName;
    let output: unknown;
    try {
      output = await this.station.invoke(command, checked.value as never);
    } catch (error) {
      return { ok: false, error: toControlError(error) };
    }
    if (command === 'app.info' && typeof output === 'object' && output !== null) {
      // The station cannot know which transport is asking; the transport can.
      output = { ...output, transport: this.options.transport };
    }
    const reply = validateCommandOutput(command, output);
    if (!reply.ok) {
      this.reportFault(`station broke the contract answering ${command}: ${reply.error.message}`);
      return { ok: false, error: { code: 'failed', message: `station gave an invalid reply to ${command}` } };
    }
    return { ok: true, output: reply.value };
  }

  /** Subscribes to validated station events; the station is subscribed once, however many listeners. */
  subscribe(listener: ValidEventListener): () => void {
    this.listeners.add(listener);
    if (!this.unsubscribeStation) {
      this.unsubscribeStation = this.station.subscribe((name, payload) => this.fanOut(name, payload));
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.unsubscribeStation) {
        this.unsubscribeStation();
        this.unsubscribeStation = null;
      }
    };
  }

  private fanOut(name: EventName, payload: unknown): void {
    const checked = validateEvent(name, payload);
    if (!checked.ok) {
      this.reportFault(`station emitted an invalid event: ${checked.error.message}`);
      return;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(name, checked.value as never);
      } catch (error) {
        this.reportFault(`event listener for ${name} threw: ${String(error)}`);
      }
    }
  }
}

/** Errors thrown by the station carry their own code/field when they have them (e.g. a missing line). */
function toControlError(error: unknown): ControlError {
  if (typeof error === 'object' && error !== null) {
    const { code, field, message } = error as { code?: unknown; field?: unknown; message?: unknown };
    const text = typeof message === 'string' && message.length > 0 ? message : 'command failed';
    const known = code === 'invalid' || code === 'forbidden' ? code : 'failed';
    return typeof field === 'string' ? { code: known, field, message: text } : { code: known, message: text };
  }
  return { code: 'failed', message: String(error) };
}
