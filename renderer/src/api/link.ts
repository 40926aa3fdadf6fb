// How the renderer reaches its station: Electron IPC (window.partyline from the preload) when inside the
// app, otherwise the headless station's WebSocket bridge with the token from the URL fragment.
import type { PartylineApi } from '../../../electron/common/contract';
import type { ControlLink } from './control-link';
import { connectWebSocketLink, tokenFromFragment } from './ws-api';

export type { ControlLink, LinkStatus } from './control-link';

declare global {
  interface Window {
    partyline?: PartylineApi;
  }
}

export function openControlLink(): ControlLink | { error: string } {
  if (window.partyline) {
    const api = window.partyline;
    return { api, transport: 'ipc', status: () => 'open', onStatus: () => () => undefined };
  }
  const token = tokenFromFragment(window.location.hash);
  if (!token) {
    return { error: 'This page needs the link printed by the station (…/#token=…). Open that link to control it.' };
  }
  return connectWebSocketLink(new URL(window.location.href), token);
}
