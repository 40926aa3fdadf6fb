// The control WebSocket's port and token outlive the process: a Stream Deck or Companion configured once against
// ws://127.0.0.1:PORT/control?token=TOKEN keeps working after a restart. Given values (--control-port,
// --control-token) win and are remembered; otherwise the remembered ones are used, or picked on the first start.
import type { Log } from '../common/log';
import type { ControlEndpoint } from '../common/contract';
import type { SettingsStore } from '../settings/store';
import { type ControlBridgeAddress, type ControlBridgeOptions, ControlBridgeServer } from './ws-bridge';

export interface RememberedBridge {
  bridge: ControlBridgeServer;
  address: ControlBridgeAddress;
}

/**
 * Starts the bridge on the given or remembered port and token and remembers what it got. A remembered port another
 * program holds now is reported and replaced (the panel must then be told the new one); a given one fails the start.
 */
export async function startRememberedBridge(
  options: Omit<ControlBridgeOptions, 'port' | 'token'>,
  given: Partial<ControlEndpoint>,
  store: SettingsStore | undefined,
  log: Log,
): Promise<RememberedBridge> {
  const remembered = store?.get().control ?? null;
  const port = given.port ?? remembered?.port ?? 0;
  const token = given.token ?? remembered?.token;
  let bridge = new ControlBridgeServer({ ...options, port, ...(token === undefined ? {} : { token }) });
  let address: ControlBridgeAddress;
  try {
    address = await bridge.start();
  } catch (error) {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    if (!inUse || given.port !== undefined || port === 0) {
      throw new Error(`control port ${port}: ${inUse ? 'in use by another program' : String(error)}`, { cause: error });
    }
    log.child({ component: 'control' }).warn(`the remembered control port ${port} is in use by another program: serving on a new port, which panels must be told`);
    bridge = new ControlBridgeServer({ ...options, port: 0, ...(token === undefined ? {} : { token }) });
    address = await bridge.start();
  }
  if (store && (remembered?.port !== address.port || remembered?.token !== address.token)) {
    await store.update({ control: { port: address.port, token: address.token } });
  }
  return { bridge, address };
}
