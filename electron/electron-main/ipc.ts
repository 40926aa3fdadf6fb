// Electron IPC transport: the main-process half. Every message is checked against the sender frame's
// origin first, then against the contract (in the dispatcher). Typed against small structural
// interfaces so tests can pass a fake ipcMain and fake webContents.
import type { DispatchResult } from '../common/control-client';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from '../common/ipc-channels';
import type { ControlDispatcher } from '../control/dispatcher';
import { isTrustedSender } from './security';

export { EVENT_CHANNEL, INVOKE_CHANNEL } from '../common/ipc-channels';

export interface IpcInvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface EventSinkLike {
  isDestroyed(): boolean;
  readonly mainFrame: { readonly url: string };
  send(channel: string, ...args: unknown[]): void;
}

/** The single IPC message the preload sends: `{cmd, input}` on INVOKE_CHANNEL. */
export async function handleInvoke(
  dispatcher: ControlDispatcher,
  event: IpcInvokeEventLike,
  message: unknown,
): Promise<DispatchResult> {
  if (!isTrustedSender(event.senderFrame)) {
    return { ok: false, error: { code: 'forbidden', message: 'IPC from a frame outside the app origin refused' } };
  }
  if (typeof message !== 'object' || message === null || typeof (message as { cmd?: unknown }).cmd !== 'string') {
    return { ok: false, error: { code: 'invalid', field: 'cmd', message: 'IPC message must be {cmd: string, input}' } };
  }
  const { cmd, input } = message as { cmd: string; input?: unknown };
  return dispatcher.dispatch(cmd, input);
}

export function registerControlIpc(ipcMain: IpcMainLike, dispatcher: ControlDispatcher): () => void {
  ipcMain.handle(INVOKE_CHANNEL, (event, message) => handleInvoke(dispatcher, event, message));
  return () => ipcMain.removeHandler(INVOKE_CHANNEL);
}

/** Streams validated station events to one window, only while it shows our own page. */
export function forwardEvents(dispatcher: ControlDispatcher, sink: EventSinkLike): () => void {
  return dispatcher.subscribe((event, payload) => {
    if (sink.isDestroyed() || !isTrustedSender(sink.mainFrame)) return;
    sink.send(EVENT_CHANNEL, event, payload);
  });
}
