// The control contract over the headless station's WebSocket bridge, for the renderer in a plain browser.
// Reconnects after drops; a refused token is final (the operator needs the right URL).
import { CONTROL_PATH, WS_CLOSE_UNAUTHORIZED, WireServerMessage } from '../../../electron/common/contract';
import { type DispatchResult, EventHub, createPartylineApi } from '../../../electron/common/control-client';
import { CONTROL_LINK_BACKOFF, backoffDelay } from '../../../electron/common/backoff';
import type { ControlLink, LinkStatus } from './control-link';

export function tokenFromFragment(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  return token && token.length > 0 ? token : null;
}

export function connectWebSocketLink(pageUrl: URL, token: string): ControlLink {
  const events = new EventHub();
  const statusListeners = new Set<(status: LinkStatus) => void>();
  const pending = new Map<number, (result: DispatchResult) => void>();
  const queue: string[] = [];
  let status: LinkStatus = 'connecting';
  let socket: WebSocket | null = null;
  let attempt = 0;
  let nextId = 1;

  const setStatus = (next: LinkStatus) => {
    status = next;
    for (const listener of [...statusListeners]) listener(next);
  };

  const failPending = (message: string) => {
    for (const resolve of pending.values()) resolve({ ok: false, error: { code: 'failed', message } });
    pending.clear();
  };

  const open = () => {
    const scheme = pageUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${pageUrl.host}${CONTROL_PATH}?token=${encodeURIComponent(token)}`);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setStatus('open');
      for (const text of queue.splice(0)) ws.send(text);
    };
    ws.onmessage = (message) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(message.data));
      } catch {
        return;
      }
      const checked = WireServerMessage.safeParse(parsed);
      if (!checked.success) return;
      const data = checked.data;
      if ('event' in data) {
        events.deliver(data.event, data.payload);
      } else if (typeof data.id === 'number') {
        const resolve = pending.get(data.id);
        pending.delete(data.id);
        resolve?.(data.ok ? { ok: true, output: data.output } : { ok: false, error: data.error });
      }
    };
    ws.onclose = (event) => {
      socket = null;
      if (event.code === WS_CLOSE_UNAUTHORIZED) {
        failPending('the station refused this link: wrong or missing token');
        setStatus('unauthorized');
        return;
      }
      failPending('connection to the station was lost');
      setStatus('connecting');
      const delay = backoffDelay(CONTROL_LINK_BACKOFF, attempt);
      attempt += 1;
      setTimeout(open, delay);
    };
  };
  open();

  const api = createPartylineApi(
    (cmd, input) =>
      new Promise<DispatchResult>((resolve) => {
        if (status === 'unauthorized') {
          resolve({ ok: false, error: { code: 'forbidden', message: 'the station refused this link: wrong or missing token' } });
          return;
        }
        const id = nextId++;
        pending.set(id, resolve);
        const text = JSON.stringify({ id, cmd, input });
        if (socket?.readyState === WebSocket.OPEN) socket.send(text);
        else queue.push(text);
      }),
    events,
  );

  return {
    api,
    transport: 'websocket',
    status: () => status,
    onStatus(listener) {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
  };
}
