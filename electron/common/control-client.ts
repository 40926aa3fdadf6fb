// The control-surface side of the contract, shared by the preload (IPC) and the renderer's WebSocket
// client: inputs are checked before they leave, replies and events are checked when they arrive.
// Runs anywhere (browser, preload sandbox, Node): imports nothing but the contract.
import {
  type CommandInput,
  type CommandName,
  type CommandOutput,
  ControlCommandError,
  type ControlError,
  type EventName,
  type EventPayload,
  type PartylineApi,
  validateCommand,
  validateCommandOutput,
  validateEvent,
} from './contract';

export type DispatchResult = { ok: true; output: unknown } | { ok: false; error: ControlError };

/** Carries one validated command to the station and brings back its raw result. */
export type SendCommand = (cmd: CommandName, input: unknown) => Promise<DispatchResult>;

type AnyListener = (payload: never) => void;

/** Holds the surface's event listeners; a transport pushes raw events in, listeners get validated ones. */
export class EventHub {
  private readonly listeners = new Map<EventName, Set<AnyListener>>();

  constructor(private readonly reportFault: (message: string) => void = (message) => console.warn(message)) {}

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as AnyListener);
    return () => void set.delete(listener as AnyListener);
  }

  deliver(name: unknown, payload: unknown): void {
    const checked = validateEvent(String(name), payload);
    if (!checked.ok) {
      this.reportFault(`[partyline] dropped event: ${checked.error.message}`);
      return;
    }
    for (const listener of [...(this.listeners.get(name as EventName) ?? [])]) {
      (listener as (payload: unknown) => void)(checked.value);
    }
  }
}

export function createPartylineApi(send: SendCommand, events: EventHub): PartylineApi {
  return {
    async invoke<C extends CommandName>(name: C, input: CommandInput<C>): Promise<CommandOutput<C>> {
      const checked = validateCommand(name, input);
      if (!checked.ok) throw new ControlCommandError(checked.error);
      const result = await send(name, checked.value);
      if (!result.ok) throw new ControlCommandError(result.error);
      const reply = validateCommandOutput(name, result.output);
      if (!reply.ok) throw new ControlCommandError({ ...reply.error, code: 'failed' });
      return reply.value;
    },
    on: (event, listener) => events.on(event, listener),
  };
}
