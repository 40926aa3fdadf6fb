import type { LineJoin } from '../../common/contract';

/**
 * The lines to send on a live line change, with the secret of each line already held filled in where the caller gave
 * none. The server checks every line's secret again on each change, and a control surface cannot resend them: the
 * station never reports secrets. A secret given wins; a line left is forgotten with its secret.
 */
export function keepSecrets(next: LineJoin[], held: LineJoin[]): LineJoin[] {
  const secrets = new Map(held.flatMap(({ line, secret }) => (secret === undefined ? [] : [[line, secret] as const])));
  return next.map((join) => {
    const secret = join.secret ?? secrets.get(join.line);
    return secret === undefined ? join : { ...join, secret };
  });
}
