// Runs sandboxed in the renderer process: exposes exactly one object, window.partyline, speaking the
// control contract. No ipcRenderer, no Node: the page can only send contract commands.
import { contextBridge, ipcRenderer } from 'electron';
import type { DispatchResult } from '../common/control-client';
import { createPartylineApi, EventHub } from '../common/control-client';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from '../common/ipc-channels';

const events = new EventHub();
ipcRenderer.on(EVENT_CHANNEL, (_event, name: unknown, payload: unknown) => events.deliver(name, payload));

const api = createPartylineApi(
  (cmd, input) => ipcRenderer.invoke(INVOKE_CHANNEL, { cmd, input }) as Promise<DispatchResult>,
  events,
);

contextBridge.exposeInMainWorld('partyline', {
  invoke: api.invoke,
  on: api.on,
});
