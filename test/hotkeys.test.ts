// Global push-to-talk behind its interface: hotkey strings, key-down/key-up momentary talk from a scripted key
// source, bindings refused naming the field, and a desktop without a display server giving a notice, not a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHotkey, parseHotkey } from '../electron/common/hotkey';
import { Settings, DEFAULT_SETTINGS, validateCommand } from '../electron/common/contract';
import { GlobalPushToTalk } from '../electron/hotkeys/global-ptt';
import { type GlobalKeyEvent, type GlobalKeySource, HotkeysUnavailable } from '../electron/hotkeys/key-source';
import { UiohookKeySource } from '../electron/hotkeys/uiohook-source';
import { toAccelerator } from '../electron/hotkeys/accelerator';
import { withGlobalPushToTalk } from '../electron/hotkeys/with-global-ptt';
import { ScriptedStation } from './contract-station.fixture';

/** A key source the test presses keys on. */
class ScriptedKeys implements GlobalKeySource {
  private listener: ((e: GlobalKeyEvent) => void) | undefined;
  started = 0;
  constructor(private readonly failWith?: Error) {}
  async start(listener: (e: GlobalKeyEvent) => void): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.started++;
    this.listener = listener;
  }
  async stop(): Promise<void> {
    this.listener = undefined;
  }
  key(key: string, down: boolean, modifiers: GlobalKeyEvent['modifiers'] = []): void {
    this.listener?.({ key, down, modifiers });
  }
}

test('hotkey strings: modifiers and a key name, spelled canonically; anything else is named', () => {
  assert.equal(formatHotkey(parseHotkey('f13')), 'F13');
  assert.equal(formatHotkey(parseHotkey('shift+ctrl+1')), 'Ctrl+Shift+1');
  assert.deepEqual(parseHotkey('Alt+Numpad2'), { key: 'Numpad2', modifiers: ['Alt'] });
  for (const [bad, why] of [['', /not a hotkey/], ['Ctrl+', /not a hotkey/], ['Hyper+1', /"Hyper" .* not a modifier/], ['Ctrl+Ctrl+A', /twice/], ['F99', /"F99" .* not a key name/]] as const) {
    assert.throws(() => parseHotkey(bad, 'hotkeys.0.hotkey'), (e: Error & { field?: string; code?: string }) => e.field === 'hotkeys.0.hotkey' && e.code === 'invalid' && why.test(e.message), bad);
  }
  // Settings refuse them the same way, naming the entry.
  const bad = validateCommand('settings.update', { hotkeys: [{ hotkey: 'F13', line: 'Program' }, { hotkey: 'Ctrl+Q+', line: 'Stage' }] });
  assert.equal(bad.ok ? null : bad.error.field, 'hotkeys.1.hotkey');
  const taken = validateCommand('settings.update', { hotkeys: [{ hotkey: 'F13', line: 'Program' }, { hotkey: 'f13', line: 'Stage' }] });
  assert.equal(taken.ok ? null : taken.error.field, 'hotkeys.1.hotkey');
  assert.match(taken.ok ? '' : taken.error.message, /F13 is already taken by line Program/);
  assert.deepEqual(Settings.parse({ ...DEFAULT_SETTINGS }).hotkeys, []);
});

test('global push-to-talk: key-down talks, auto-repeat is ignored, key-up ends it; modifiers must match', async () => {
  const keys = new ScriptedKeys();
  const talk: string[] = [];
  const ptt = new GlobalPushToTalk({ source: keys, setTalk: (line, on) => talk.push(`${line} ${on}`), notice: () => assert.fail('no notice') });
  ptt.bind([{ hotkey: 'F13', line: 'Program' }, { hotkey: 'Ctrl+2', line: 'Stage' }]);
  assert.equal(await ptt.start(), true);
  keys.key('F13', true);
  keys.key('F13', true);
  keys.key('F13', false);
  keys.key('2', true);
  keys.key('2', false);
  keys.key('2', true, ['Ctrl']);
  // The modifier is let go first: releasing the key still ends talk.
  keys.key('2', false, []);
  keys.key('A', true);
  assert.deepEqual(talk, ['Program true', 'Program false', 'Stage true', 'Stage false']);

  // Bad bindings are refused naming the field; the ones in force stay.
  assert.throws(() => ptt.bind([{ hotkey: 'F14', line: 'Program' }, { hotkey: 'F14', line: 'Stage' }]), (e: Error & { field?: string }) => e.field === 'hotkeys.1.hotkey' && /already taken by line Program/.test(e.message));
  assert.throws(() => ptt.bind([{ hotkey: 'Shift+', line: 'Program' }]), (e: Error & { field?: string }) => e.field === 'hotkeys.0.hotkey');
  keys.key('F13', true);
  assert.equal(talk.at(-1), 'Program true', 'F13 still keys Program');
  // Stopping while a key is held ends its talk.
  await ptt.stop();
  assert.equal(talk.at(-1), 'Program false');
});

test('no display server: a clear notice and no crash; the native module is not even loaded', async () => {
  let loaded = 0;
  const source = new UiohookKeySource({}, 'linux', () => {
    loaded++;
    throw new Error('must not load');
  });
  await assert.rejects(source.start(() => undefined), (e: Error) => e instanceof HotkeysUnavailable && /no display server \(DISPLAY is not set\)/.test(e.message));
  await assert.rejects(new UiohookKeySource({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux', () => assert.fail()).start(() => undefined), /XWayland/);
  assert.equal(loaded, 0);
  // A module that cannot load is named as such.
  await assert.rejects(new UiohookKeySource({ DISPLAY: ':9' }, 'linux', () => { throw new Error('no binary for this platform'); }).start(() => undefined), (e: Error) => e instanceof HotkeysUnavailable && /uiohook-napi module could not be loaded \(no binary/.test(e.message));

  // In front of a station: the notice reaches the UI (even one that subscribes later); the station carries on.
  const station = new ScriptedStation();
  const settings = { ...DEFAULT_SETTINGS, hotkeys: [{ hotkey: 'F13', line: 'Program' }] };
  const control = await withGlobalPushToTalk(station, settings, new UiohookKeySource({}, 'linux'));
  const notices: unknown[] = [];
  control.subscribe((name, payload) => name === 'notice' && notices.push(payload));
  assert.equal(notices.length, 1);
  assert.match((notices[0] as { message: string }).message, /Global push-to-talk is off: there is no display server/);
  assert.equal((await control.invoke('station.getState', {})).connection, 'idle');
  await control.close();
});

test('in front of a station: hotkeys saved in settings key their lines, and follow settings.update', async () => {
  const station = new ScriptedStation();
  await station.invoke('station.connect', { server: { kind: 'remote', url: 'ws://127.0.0.1:9/', insecure: true }, name: 'FOH', lines: [{ line: 'Program' }, { line: 'Stage' }], iceServers: [] });
  const keys = new ScriptedKeys();
  const control = await withGlobalPushToTalk(station, { ...DEFAULT_SETTINGS, hotkeys: [{ hotkey: 'F13', line: 'Program' }] }, keys);
  const talkOf = (line: string) => station.state.lines.find((l) => l.line === line)?.talk;
  keys.key('F13', true);
  await new Promise((r) => setImmediate(r));
  assert.equal(talkOf('Program'), true);
  keys.key('F13', false);
  await new Promise((r) => setImmediate(r));
  assert.equal(talkOf('Program'), false);
  await control.invoke('settings.update', { hotkeys: [{ hotkey: 'F14', line: 'Stage' }] });
  keys.key('F13', true);
  keys.key('F14', true);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([talkOf('Program'), talkOf('Stage')], [false, true]);
  await control.close();
  await new Promise((r) => setImmediate(r));
  assert.equal(talkOf('Stage'), false, 'closing ends a held key');
});

test('a hotkey another application holds: an error notice naming it and its field, its state "taken", the rest keep working', async () => {
  const station = new ScriptedStation();
  await station.invoke('station.connect', { server: { kind: 'remote', url: 'wss://127.0.0.1:9/' }, name: 'FOH', lines: [{ line: 'Program' }, { line: 'Stage' }], iceServers: [] });
  const keys = new ScriptedKeys();
  const held = new Set(['Ctrl+F1']);
  const control = await withGlobalPushToTalk(
    station,
    { ...DEFAULT_SETTINGS, hotkeys: [{ hotkey: 'F13', line: 'Program' }, { hotkey: 'ctrl+f1', line: 'Stage' }] },
    keys,
    { isTaken: (hotkey) => held.has(formatHotkey(hotkey)) },
  );
  const notices: { level: string; message: string }[] = [];
  control.subscribe((name, payload) => name === 'notice' && notices.push(payload as { level: string; message: string }));
  assert.deepEqual(notices.map((n) => n.level), ['error']);
  assert.match(notices[0]?.message ?? '', /^hotkeys\.1\.hotkey: Ctrl\+F1 \(line Stage\) is held by another application/);
  const state = await control.invoke('hotkeys.getState', {});
  assert.deepEqual(state.bindings.map((b) => [b.hotkey, b.line, b.state]), [['F13', 'Program', 'active'], ['Ctrl+F1', 'Stage', 'taken']]);
  keys.key('F13', true);
  await new Promise((r) => setImmediate(r));
  assert.equal(station.state.lines.find((l) => l.line === 'Program')?.talk, true, 'the free hotkey still keys its line');
  keys.key('F13', false);

  // Moved to a free key, the state clears.
  await control.invoke('settings.update', { hotkeys: [{ hotkey: 'F13', line: 'Program' }, { hotkey: 'F14', line: 'Stage' }] });
  assert.deepEqual((await control.invoke('hotkeys.getState', {})).bindings.map((b) => b.state), ['active', 'active']);
  await control.close();
});

test('hotkeys as Electron accelerators, for asking who holds them', () => {
  const cases: [string, string][] = [['Ctrl+Shift+F13', 'Control+Shift+F13'], ['Meta+ArrowUp', 'Super+Up'], ['Alt+Numpad2', 'Alt+num2'], ['Equal', '='], ['Ctrl+Space', 'Control+Space']];
  for (const [hotkey, accelerator] of cases) assert.equal(toAccelerator(parseHotkey(hotkey)), accelerator, hotkey);
});
