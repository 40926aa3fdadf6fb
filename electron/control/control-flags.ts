// The control endpoint given on a command line, one rule for both entry points that take it: the station CLI's
// --control-port/--control-token flags and the desktop app's switches of the same names. A refusal names the flag and
// says what it takes; the token is a secret, so its value is never repeated.
import { z } from 'zod';
import { ControlEndpoint } from '../common/contract';

/** A command line refused; `flag` names the flag at fault (without its dashes). */
export class ArgError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
  }
}

export const wholeNumber = z.string().regex(/^\d+$/, 'is not a whole number').transform(Number);
/** 0 asks for the remembered control port, else a free one. */
export const portNumber = wholeNumber.refine((n) => n <= 65535, 'is not a port (0-65535)');
/** The token the settings keep, so a given one is remembered as it was given. */
export const controlToken = ControlEndpoint.shape.token;

/** Flags whose value is a secret: a refusal names the flag but does not repeat the value. */
const SECRET_FLAGS = new Set(['control-token']);

/** The refusal of one flag's value: `--flag: "value" what is wrong`. */
export function refuseFlag(flag: string, value: unknown, problem: string): ArgError {
  const shown = SECRET_FLAGS.has(flag) ? '' : ` "${String(value)}"`;
  return new ArgError(flag, `--${flag}:${shown} ${problem}`);
}

const ControlFlags = z.object({ 'control-port': portNumber.optional(), 'control-token': controlToken.optional() });
type ControlFlagValues = { [flag in keyof z.input<typeof ControlFlags>]?: string | undefined };

/** The port and token given as --control-port and --control-token (absent or port 0: not given); an ArgError otherwise. */
export function givenControlEndpoint(values: ControlFlagValues): Partial<ControlEndpoint> {
  const checked = ControlFlags.safeParse(values);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const flag = String(issue?.path[0] ?? '') as keyof ControlFlagValues;
    throw refuseFlag(flag, values[flag], issue?.message ?? 'is not valid');
  }
  const { 'control-port': port, 'control-token': token } = checked.data;
  return { ...(port ? { port } : {}), ...(token === undefined ? {} : { token }) };
}
