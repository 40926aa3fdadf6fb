/**
 * Hotkey strings such as "F13", "Ctrl+Shift+1" or "Alt+Numpad2": modifiers, then one key. Key names are those of
 * uiohook-napi's UiohookKey, so the desktop's key source maps them one to one; parsing needs no native module.
 */

export type Modifier = 'Ctrl' | 'Shift' | 'Alt' | 'Meta';
const MODIFIERS: readonly Modifier[] = ['Ctrl', 'Shift', 'Alt', 'Meta'];

const KEYS = new Set<string>([
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''),
  ...Array.from({ length: 24 }, (_, i) => `F${i + 1}`),
  ...Array.from({ length: 10 }, (_, i) => `Numpad${i}`),
  'NumpadMultiply', 'NumpadAdd', 'NumpadSubtract', 'NumpadDecimal', 'NumpadDivide', 'NumpadEnter',
  'Space', 'Tab', 'Enter', 'Backspace', 'Escape', 'Insert', 'Delete', 'Home', 'End', 'PageUp', 'PageDown',
  'ArrowLeft', 'ArrowUp', 'ArrowRight', 'ArrowDown', 'Semicolon', 'Equal', 'Comma', 'Minus', 'Period', 'Slash',
  'Backquote', 'BracketLeft', 'Backslash', 'BracketRight', 'Quote', 'ScrollLock', 'PrintScreen', 'CapsLock',
]);

export interface Hotkey {
  key: string;
  modifiers: Modifier[];
}

/** A hotkey string that does not parse, with the field it came from. */
export class HotkeyError extends Error {
  readonly code = 'invalid';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'HotkeyError';
  }
}

/** Parses "Ctrl+Shift+F13"; `field` names where the string came from in any error. */
export function parseHotkey(text: string, field = 'hotkey'): Hotkey {
  const parts = text.split('+').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new HotkeyError(`${field}: "${text}" is not a hotkey (write e.g. F13 or Ctrl+Shift+1)`, field);
  const key = parts.pop() as string;
  const modifiers: Modifier[] = [];
  for (const p of parts) {
    const m = MODIFIERS.find((candidate) => candidate.toLowerCase() === p.toLowerCase());
    if (!m) throw new HotkeyError(`${field}: "${p}" in "${text}" is not a modifier (Ctrl, Shift, Alt, Meta)`, field);
    if (modifiers.includes(m)) throw new HotkeyError(`${field}: ${m} is listed twice in "${text}"`, field);
    modifiers.push(m);
  }
  const known = [...KEYS].find((k) => k.toLowerCase() === key.toLowerCase());
  if (!known) throw new HotkeyError(`${field}: "${key}" in "${text}" is not a key name (e.g. A, 1, F13, Numpad1, Space)`, field);
  return { key: known, modifiers: MODIFIERS.filter((m) => modifiers.includes(m)) };
}

/** The canonical spelling: modifiers in a fixed order, then the key. */
export function formatHotkey(h: Hotkey): string {
  return [...h.modifiers, h.key].join('+');
}
