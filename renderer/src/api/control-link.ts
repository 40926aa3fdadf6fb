// What the keypanel holds of its station, whichever transport carries it (IPC in the app, WebSocket in a browser).
import type { PartylineApi } from '../../../electron/common/contract';

export type LinkStatus = 'connecting' | 'open' | 'unauthorized';

export interface ControlLink {
  api: PartylineApi;
  transport: 'ipc' | 'websocket';
  status(): LinkStatus;
  onStatus(listener: (status: LinkStatus) => void): () => void;
}
