/**
 * Standalone signalling server:
 *   npm run signal -- --port 8080 [--bind 127.0.0.1] [--line main:secret ...] [--require-known-lines] [--static dir]
 *                     [--tls-cert FILE --tls-key FILE]   (wss:// and https://)
 *                     [--janus ws://HOST:8188 [--janus-admin-key KEY] [--janus-above N]] [--line big:secret:janus ...]
 *                     [--janus wss://HOST:8989 [--janus-fingerprint SHA256]]   (Janus over TLS; the pin trusts a self-signed cert)
 *                     [--max-line-members N] [--max-connections-per-address N]
 * Logs joins and departures one line each (pino records printed as text, like the station's); SIGINT/SIGTERM close
 * every socket and exit.
 *   npm run signal -- --json-schema
 * prints the protocol's JSON Schemas (the block pasted into docs/signalling.md) and exits.
 */
import { parseArgs } from 'node:util';
import { lineNameSchema, signallingJsonSchemas } from '../common/signalling-protocol';
import { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, DEFAULT_MAX_LINE_MEMBERS, SignallingServer, type SignallingServerOptions } from '../signalling/server';
import { loadTlsFiles, TlsFileError } from '../signalling/tls-identity';
import { checkJanusConfig, JanusConfigError } from '../signalling/janus/janus-rooms';
import { stdoutLog } from '../compose/log';

const USAGE =
  'usage: npm run signal -- --port <0-65535> [--bind <address>] [--line <name>:<secret> ...] [--require-known-lines] [--static <dir>]\n' +
  '                         [--tls-cert <file> --tls-key <file>]\n' +
  '                         [--janus ws://<host>:8188 [--janus-admin-key <key>] [--janus-above <members>]] [--line <name>:<secret>:janus ...]\n' +
  '                         [--janus wss://<host>:8989 [--janus-fingerprint <SHA-256 of its certificate>]]\n' +
  `                         [--max-line-members <n, default ${DEFAULT_MAX_LINE_MEMBERS}>] [--max-connections-per-address <n, default ${DEFAULT_MAX_CONNECTIONS_PER_ADDRESS}>]\n` +
  '       npm run signal -- --json-schema';

class UsageError extends Error {}

function parseOptions(argv: string[]): SignallingServerOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      bind: { type: 'string', default: '127.0.0.1' },
      line: { type: 'string', multiple: true, default: [] },
      'require-known-lines': { type: 'boolean', default: false },
      static: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      janus: { type: 'string' },
      'janus-admin-key': { type: 'string' },
      'janus-fingerprint': { type: 'string' },
      'janus-above': { type: 'string' },
      'max-line-members': { type: 'string' },
      'max-connections-per-address': { type: 'string' },
    },
    strict: true,
  });
  if (values.port === undefined) throw new UsageError('--port is required');
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port must be an integer 0..65535, got ${values.port}`);
  const lines: Record<string, string> = {};
  const janusLines: string[] = [];
  for (const given of values.line) {
    // `name:secret:janus`: the line's media goes through Janus.
    const onJanus = given.endsWith(':janus');
    const spec = onJanus ? given.slice(0, -':janus'.length) : given;
    const colon = spec.indexOf(':');
    const name = colon < 0 ? spec : spec.slice(0, colon);
    const secret = colon < 0 ? '' : spec.slice(colon + 1);
    const checked = lineNameSchema.safeParse(name);
    if (!checked.success) throw new UsageError(`--line ${spec}: ${checked.error.issues[0]?.message ?? 'bad line name'}`);
    if (secret === '') throw new UsageError(`--line ${spec}: give the secret as <name>:<secret> (unlisted lines are open)`);
    if (name in lines) throw new UsageError(`--line ${name} is given twice`);
    lines[name] = secret;
    if (onJanus) janusLines.push(name);
  }
  let janusAbove: number | undefined;
  if (values['janus-above'] !== undefined) {
    janusAbove = Number(values['janus-above']);
    if (!/^\d+$/.test(values['janus-above']) || janusAbove < 1) throw new UsageError(`--janus-above must be a whole number of members >= 1, got ${values['janus-above']}`);
  }
  if (values.janus === undefined) {
    if (janusLines.length > 0) throw new UsageError(`--line ${janusLines[0]}:...:janus needs --janus ws://HOST:8188 (the Janus server that carries it)`);
    if (janusAbove !== undefined) throw new UsageError('--janus-above needs --janus ws://HOST:8188');
    if (values['janus-admin-key'] !== undefined) throw new UsageError('--janus-admin-key needs --janus ws://HOST:8188');
    if (values['janus-fingerprint'] !== undefined) throw new UsageError('--janus-fingerprint needs --janus wss://HOST:8989 (the Janus whose certificate it pins)');
  }
  let janus: SignallingServerOptions['janus'];
  if (values.janus !== undefined) {
    try {
      janus = checkJanusConfig({
        url: values.janus,
        ...(values['janus-admin-key'] !== undefined ? { adminKey: values['janus-admin-key'] } : {}),
        ...(values['janus-fingerprint'] !== undefined ? { fingerprint: values['janus-fingerprint'] } : {}),
      });
    } catch (e) {
      const flags: Record<string, string> = { 'janus.url': 'janus', 'janus.adminKey': 'janus-admin-key', 'janus.fingerprint': 'janus-fingerprint' };
      if (e instanceof JanusConfigError && e.field in flags) throw new UsageError(`--${flags[e.field]} ${e.message.slice(e.field.length + 2)}`);
      throw e;
    }
  }
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  let tls: SignallingServerOptions['tls'];
  if (certFile !== undefined && keyFile !== undefined) {
    try {
      const identity = loadTlsFiles(certFile, keyFile);
      tls = { cert: identity.cert, key: identity.key };
    } catch (e) {
      if (e instanceof TlsFileError) throw new UsageError(`--tls-${e.file === keyFile ? 'key' : 'cert'} ${e.message}`);
      throw e;
    }
  }
  const limit = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${flag} must be a positive integer, got ${value}`);
    return Number(value);
  };
  const maxLineMembers = limit('max-line-members', values['max-line-members']);
  const maxConnectionsPerAddress = limit('max-connections-per-address', values['max-connections-per-address']);
  return {
    port,
    host: values.bind,
    ...(maxLineMembers !== undefined ? { maxLineMembers } : {}),
    ...(maxConnectionsPerAddress !== undefined ? { maxConnectionsPerAddress } : {}),
    ...(tls ? { tls } : {}),
    lines,
    requireKnownLines: values['require-known-lines'],
    ...(janus ? { janus, janusLines, ...(janusAbove !== undefined ? { janusAbove } : {}) } : {}),
    ...(values.static !== undefined ? { staticDir: values.static } : {}),
  };
}

async function main(): Promise<void> {
  if (process.argv.slice(2).join(' ') === '--json-schema') {
    console.log(JSON.stringify(signallingJsonSchemas(), null, 2));
    return;
  }
  let options: SignallingServerOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`signal: ${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const log = stdoutLog().child({ component: 'signal' });
  const server = new SignallingServer(options);
  server.on('joined', ({ stationId, name, kind, lines, remote }) => log.info(`joined ${stationId} "${name}" (${kind}) from ${remote} on ${lines.join(', ') || 'no lines'}`));
  server.on('left', ({ stationId, reason }) => log.info(`left ${stationId} (${reason})`));
  server.on('carrier', (line) => log.info(line));
  const { url } = await server.start();
  const secured = Object.keys(options.lines ?? {});
  const limits = `at most ${options.maxLineMembers ?? DEFAULT_MAX_LINE_MEMBERS} members per line, ${options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS} connections per address`;
  log.info(`signalling on ${url}${secured.length ? `; secret lines: ${secured.join(', ')}` : ''}${options.requireKnownLines ? '; unknown lines refused' : ''}; ${limits}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info(`${signal}: closing`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error(`close failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`signal: ${(error as Error).message ?? String(error)}`);
  process.exitCode = 1;
});
