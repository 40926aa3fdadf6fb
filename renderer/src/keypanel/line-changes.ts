// What the keypanel asks station.setLines for when the operator joins or leaves one line on air. The lines held are
// sent by name alone: the station keeps their secrets, which it never reports.
import type { LineJoin } from '../../../electron/common/contract';

/** The lines held plus the one joined, with its secret when one was typed. */
export function joining(held: string[], line: string, secret: string): LineJoin[] {
  return [...held.map((name) => ({ line: name })), secret ? { line, secret } : { line }];
}

/** The lines held less the one left. */
export function leaving(held: string[], line: string): LineJoin[] {
  return held.filter((name) => name !== line).map((name) => ({ line: name }));
}
