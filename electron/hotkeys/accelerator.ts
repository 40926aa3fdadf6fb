// A hotkey of hotkey.ts as an Electron accelerator ("Ctrl+Shift+F13" -> "Control+Shift+F13"), for asking Electron's
// globalShortcut whether another application holds it.
import type { Hotkey } from '../common/hotkey';

const MODIFIER: Record<string, string> = { Ctrl: 'Control', Shift: 'Shift', Alt: 'Alt', Meta: 'Super' };
const KEY: Record<string, string> = {
  ArrowLeft: 'Left', ArrowUp: 'Up', ArrowRight: 'Right', ArrowDown: 'Down', Enter: 'Return', Escape: 'Esc',
  Semicolon: ';', Equal: '=', Comma: ',', Minus: '-', Period: '.', Slash: '/', Backquote: '`', BracketLeft: '[',
  Backslash: '\\', BracketRight: ']', Quote: "'", NumpadMultiply: 'nummult', NumpadAdd: 'numadd',
  NumpadSubtract: 'numsub', NumpadDecimal: 'numdec', NumpadDivide: 'numdiv', NumpadEnter: 'Return',
  Capslock: 'Capslock', CapsLock: 'Capslock', ScrollLock: 'Scrolllock', PrintScreen: 'PrintScreen',
};

export function toAccelerator(hotkey: Hotkey): string {
  const key = KEY[hotkey.key] ?? (/^Numpad\d$/.test(hotkey.key) ? `num${hotkey.key.slice(6)}` : hotkey.key);
  return [...hotkey.modifiers.map((m) => MODIFIER[m] ?? m), key].join('+');
}
