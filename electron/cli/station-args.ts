// The station CLI's flags: node:util parseArgs reads them (an unknown flag or a missing value is refused naming the
// flag), zod checks the values (an error names the flag and says what it takes).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ArgError, controlToken, portNumber, refuseFlag, wholeNumber } from '../control/control-flags';

const string = { type: 'string' } as const;
const boolean = { type: 'boolean' } as const;
const list = { type: 'string', multiple: true } as const;

const OPTIONS = {
  name: string,
  id: string,
  server: string,
  host: boolean,
  port: string,
  bind: string,
  line: list,
  input: string,
  output: string,
  talk: list,
  mute: list,
  stun: list,
  turn: list,
  'frame-ms': string,
  bitrate: string,
  'opus-application': string,
  'chunk-ms': string,
  ui: boolean,
  'ui-port': string,
  'control-port': string,
  'control-token': string,
  'ui-bind': string,
  'ui-root': string,
  'allow-remote': boolean,
  'lan-discovery': string,
  priority: string,
  settings: string,
  'list-devices': boolean,
  'meters-every': string,
  help: boolean,
  'debug-stall-main': string,
  'debug-main-garbage': string,
  insecure: boolean,
  'tls-cert': string,
  'tls-key': string,
  fingerprint: string,
  'data-dir': string,
} as const;

const oneOfNumbers = <const T extends readonly number[]>(allowed: T) =>
  z
    .string()
    .transform(Number)
    .refine((n): n is T[number] => allowed.includes(n), `is not one of ${allowed.join(', ')}`);
const turnServer = z
  .string()
  .transform((t) => t.split(','))
  .refine(
    (parts): parts is [string, string, string] => parts.length === 3 && parts.every((p) => p.length > 0),
    'must be URL,USER,PASS',
  )
  .transform(([urls, username, credential]) => ({ urls, username, credential }));
const lineCredential = z.string().transform((l) => {
  const at = l.indexOf(':');
  return at < 0 ? { line: l } : { line: l.slice(0, at), secret: l.slice(at + 1) };
});

const Values = z.object({
  port: wholeNumber.optional(),
  // 0 or absent: the remembered control port, else a free one. --ui-port is its older name.
  'control-port': portNumber.optional(),
  'ui-port': portNumber.optional(),
  'control-token': controlToken.optional(),
  'meters-every': wholeNumber.optional(),
  bitrate: wholeNumber.optional(),
  'frame-ms': oneOfNumbers([5, 10, 20] as const).optional(),
  'chunk-ms': oneOfNumbers([5, 10] as const).optional(),
  'opus-application': z.enum(['audio', 'voip'], { error: 'is not one of audio, voip' }).optional(),
  priority: z.enum(['raised', 'normal'], { error: 'is not one of raised, normal' }).optional(),
  'lan-discovery': z.enum(['on', 'off'], { error: 'is not one of on, off' }).optional(),
  turn: z.array(turnServer).optional(),
  line: z.array(lineCredential).optional(),
});

type Raw = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];
export type StationArgs = Omit<Raw, keyof z.infer<typeof Values>> & z.infer<typeof Values>;

export function parseStationArgs(argv: string[]): StationArgs {
  let values: Raw;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    const message = (e as Error).message;
    const flag = /'-?-?([\w-]+)/.exec(message)?.[1] ?? '';
    throw new ArgError(flag, message);
  }
  const checked = Values.safeParse(values);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const flag = String(issue?.path[0] ?? '');
    const given = (values as Record<string, unknown>)[flag];
    const value = Array.isArray(given) ? given[Number(issue?.path[1] ?? 0)] : given;
    throw refuseFlag(flag, value, issue?.message ?? 'is not valid');
  }
  if (values['control-port'] !== undefined && values['ui-port'] !== undefined) {
    throw new ArgError('control-port', '--control-port and --ui-port are the same option: give one');
  }
  // Every flag zod checked is replaced by its checked value (a flag not given is absent from both).
  return { ...values, ...checked.data } as StationArgs;
}
