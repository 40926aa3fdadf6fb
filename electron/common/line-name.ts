/**
 * The one rule for a party line's name, used by the control contract, the signalling protocol and every form that
 * asks for one. Spaces are allowed ("Stage Left"): names travel as JSON strings, so the protocol carries them as
 * safely as any other character; a name must start and end with a letter or digit, so a stray space never makes two
 * lines that look the same. Imports only zod: the browser guest uses it too.
 */
import { z } from 'zod';

export const LINE_NAME_MAX = 64;
/** Letters, digits, space, `_ . -`; first and last a letter or digit. Also the guest form's `pattern`. */
export const LINE_NAME_PATTERN = '[A-Za-z0-9](?:[A-Za-z0-9 _.\\-]*[A-Za-z0-9])?';
const LINE_NAME_REGEX = new RegExp(`^${LINE_NAME_PATTERN}$`);
export const LINE_NAME_RULE = 'letters, digits, space, _ . - (starting and ending with a letter or digit)';

export const lineName = z
  .string()
  .min(1, 'line name is required')
  .max(LINE_NAME_MAX, `line name is at most ${LINE_NAME_MAX} characters`)
  .regex(LINE_NAME_REGEX, `line name: ${LINE_NAME_RULE}`);
