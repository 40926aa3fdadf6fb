// Settings persistence: round trip, atomic writes, migration of older files, and a corrupt file kept aside with a notice.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { DEFAULT_SETTINGS } from '../electron/common/contract';
import { withSettings } from '../electron/control/settings-control';
import { SettingsStore } from '../electron/settings/store';
import { ScriptedStation } from './contract-station.fixture';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'partyline-settings-'));
  file = path.join(dir, 'settings.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test('no file yet: defaults, nothing written, no notice', async () => {
  const store = new SettingsStore(file);
  assert.deepEqual(await store.load(), DEFAULT_SETTINGS);
  assert.deepEqual(await readdir(dir), []);
  assert.deepEqual(store.notices, []);
});

test('round trip: an update survives a restart, as versioned JSON, with no temp files left', async () => {
  const first = new SettingsStore(file);
  await first.load();
  await first.update({ talkHoldThresholdMs: 450, devices: { inputId: 'PulseAudio:Desk mic:0', outputId: null } });
  const second = new SettingsStore(file);
  const loaded = await second.load();
  assert.equal(loaded.talkHoldThresholdMs, 450);
  assert.equal(loaded.devices.inputId, 'PulseAudio:Desk mic:0');
  assert.equal(JSON.parse(await readFile(file, 'utf8')).version, 1);
  assert.deepEqual(await readdir(dir), ['settings.json']);
});

test('concurrent updates all land, last one wins', async () => {
  const store = new SettingsStore(file);
  await store.load();
  await Promise.all([100, 200, 300].map((ms) => store.update({ talkHoldThresholdMs: ms })));
  assert.equal(JSON.parse(await readFile(file, 'utf8')).talkHoldThresholdMs, 300);
  assert.deepEqual(await readdir(dir), ['settings.json']);
});

test('an invalid update is refused and nothing changes', async () => {
  const store = new SettingsStore(file);
  await store.load();
  await assert.rejects(store.update({ talkHoldThresholdMs: -1 }), /talkHoldThresholdMs/);
  assert.equal(store.get().talkHoldThresholdMs, DEFAULT_SETTINGS.talkHoldThresholdMs);
});

for (const [label, content, reason] of [
  ['truncated JSON', '{"version": 1, "talkHold', /not JSON/],
  ['wrong field type', JSON.stringify({ ...DEFAULT_SETTINGS, talkHoldThresholdMs: 'slow' }), /talkHoldThresholdMs/],
  ['unknown version', JSON.stringify({ ...DEFAULT_SETTINGS, version: 9 }), /unsupported version 9/],
] as const) {
  test(`corrupt file (${label}): kept as a backup, defaults used, notice raised`, async () => {
    await writeFile(file, content);
    const store = new SettingsStore(file, { now: () => new Date('2026-01-02T03:04:05.678Z') });
    assert.deepEqual(await store.load(), DEFAULT_SETTINGS);
    const backup = 'settings.json.corrupt-2026-01-02T03-04-05-678Z';
    assert.deepEqual((await readdir(dir)).sort(), [backup, 'settings.json'].sort());
    assert.equal(await readFile(path.join(dir, backup), 'utf8'), content);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), DEFAULT_SETTINGS);
    assert.equal(store.notices.length, 1);
    assert.equal(store.notices[0]?.level, 'warn');
    assert.match(store.notices[0]?.message ?? '', reason);
    assert.match(store.notices[0]?.message ?? '', new RegExp(backup));

    // Every control surface that subscribes is told.
    const station = withSettings(new ScriptedStation(), store);
    const notices: unknown[] = [];
    const stop = station.subscribe((name, payload) => notices.push([name, payload]));
    await new Promise((resolve) => setImmediate(resolve));
    stop();
    assert.deepEqual(notices, [['notice', store.notices[0]]]);
  });
}

test('a file missing newer fields takes their defaults', async () => {
  const { testTone: _dropped, ...older } = { ...DEFAULT_SETTINGS, talkHoldThresholdMs: 500 };
  await writeFile(file, JSON.stringify(older));
  const store = new SettingsStore(file);
  const loaded = await store.load();
  assert.equal(loaded.talkHoldThresholdMs, 500);
  assert.deepEqual(loaded.testTone, DEFAULT_SETTINGS.testTone);
  assert.deepEqual(store.notices, []);
});

test('a file from an older version is migrated, not discarded: values kept, the original kept beside it', async () => {
  // Written before settings had a version: the same fields, unversioned.
  const { version: _unversioned, ...older } = {
    ...DEFAULT_SETTINGS,
    talkHoldThresholdMs: 650,
    devices: { inputId: 'PulseAudio:Desk mic#0', outputId: null },
  };
  const content = JSON.stringify(older);
  await writeFile(file, content);
  const store = new SettingsStore(file);
  const loaded = await store.load();
  assert.equal(loaded.talkHoldThresholdMs, 650);
  assert.equal(loaded.devices.inputId, 'PulseAudio:Desk mic#0');
  assert.deepEqual((await readdir(dir)).sort(), ['settings.json', 'settings.json.v0']);
  assert.equal(await readFile(path.join(dir, 'settings.json.v0'), 'utf8'), content);
  const onDisk = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(onDisk.version, DEFAULT_SETTINGS.version);
  assert.equal(onDisk.talkHoldThresholdMs, 650);
  assert.equal(store.notices.length, 1);
  assert.equal(store.notices[0]?.level, 'info');
  assert.match(store.notices[0]?.message ?? '', /version 0; migrated to version 1 .*settings\.json\.v0/);

  // Loaded again, it is current: no second migration, no notice.
  const again = new SettingsStore(file);
  assert.equal((await again.load()).talkHoldThresholdMs, 650);
  assert.deepEqual(again.notices, []);
});

test('the settings layer answers settings.*, remembers devices and connect values without secrets', async () => {
  const store = new SettingsStore(file);
  await store.load();
  const engine = new ScriptedStation();
  const station = withSettings(engine, store);
  await station.invoke('settings.update', { talkHoldThresholdMs: 250 });
  assert.equal((await station.invoke('settings.get', {})).talkHoldThresholdMs, 250);
  assert.equal(engine.calls.length, 0, 'settings never reach the engine');
  await station.invoke('devices.select', { inputId: 'PulseAudio:Headset:0' });
  await station.invoke('station.connect', {
    server: { kind: 'remote', url: 'ws://127.0.0.1:9000/', insecure: true },
    name: 'FOH',
    lines: [{ line: 'Program', secret: 'hunter2' }],
    iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'pw' }],
  });
  const onDisk = await readFile(file, 'utf8');
  const saved = JSON.parse(onDisk);
  assert.equal(saved.devices.inputId, 'PulseAudio:Headset:0');
  assert.deepEqual(saved.connect.lines, [{ line: 'Program' }]);
  assert.deepEqual(saved.connect.iceServers, [{ urls: 'turn:127.0.0.1:3478', username: 'u' }]);
  assert.doesNotMatch(onDisk, /hunter2|"pw"/);
});
