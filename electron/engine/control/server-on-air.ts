import type { ConnectConfig, StationState } from '../../common/contract';
import type { HostingOptions, StationNetwork, VerifyServer } from '../../common/signalling-link';

/** The signalling server a station is on air with: one it hosts (and advertises on the LAN), or one it joins. */
export interface ServerOnAir {
  url: string;
  /** The certificate check for a wss:// server: its own for a hosted one, trust on first use for a joined one. */
  verifyServer: VerifyServer | undefined;
  hosting: StationState['hosting'];
  /** Stops the advertisement and the hosted server; nothing for a joined one. */
  close(): Promise<void>;
}

/**
 * Hosts the server `config` asks for, or trusts the one it names. A certificate or trust store that cannot be used
 * throws, and leaves nothing running.
 */
export async function serverOnAir(network: StationNetwork, config: ConnectConfig, options: HostingOptions): Promise<ServerOnAir> {
  if (config.server.kind !== 'host') {
    const url = config.server.url;
    return { url, verifyServer: network.trust(url, config.server.fingerprint, options.log), hosting: null, close: async () => undefined };
  }
  const hosted = await network.host(config.server, config.lines, options);
  let advertisement: { stop(): Promise<void> } | undefined;
  const close = async () => {
    await advertisement?.stop();
    await hosted.server.close();
  };
  try {
    // A station hosting on loopback alone has nobody on the LAN to tell.
    if (network.lan && (hosted.state.joinUrls?.length ?? 0) > 0) {
      advertisement = network.lan.advertise({
        name: config.name,
        port: Number(new URL(hosted.url).port),
        lines: config.lines.map((l) => l.line),
        ...(hosted.state.fingerprint ? { fingerprint: hosted.state.fingerprint } : {}),
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { url: hosted.url, verifyServer: hosted.verifyServer, hosting: hosted.state, close };
}
