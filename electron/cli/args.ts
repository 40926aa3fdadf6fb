/** A small, strict argument reader: an unknown flag or a missing value is an error naming the flag. */
export class ArgError extends Error {
  constructor(readonly flag: string, message: string) {
    super(message);
  }
}

export interface FlagSpec {
  [flag: string]: 'string' | 'boolean' | 'list';
}

export type ParsedArgs<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends 'boolean' ? boolean : S[K] extends 'list' ? string[] : string;
};

export function parseArgs<S extends FlagSpec>(argv: string[], spec: S): ParsedArgs<S> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new ArgError(arg, `unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const kind = spec[name];
    if (!kind) throw new ArgError(name, `unknown flag --${name} (known: ${Object.keys(spec).map((f) => `--${f}`).join(' ')})`);
    if (kind === 'boolean') {
      out[name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new ArgError(name, `--${name} needs a value`);
    if (kind === 'list') out[name] = [...((out[name] as string[]) ?? []), value];
    else out[name] = value;
  }
  return out as ParsedArgs<S>;
}
