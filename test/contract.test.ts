// Every command and event of the control contract, valid and invalid, through the dispatcher, the IPC
// handler layer (fake ipcMain) and the real WebSocket bridge.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import {
  ConnectConfig,
  COMMAND_NAMES,
  type CommandName,
  ControlCommandError,
  EVENT_NAMES,
  type EventName,
  METER_FLOOR_DB,
  validateCommand,
  validateEvent,
} from '../electron/common/contract';
import { createPartylineApi, type DispatchResult, EventHub } from '../electron/common/control-client';
import { ControlDispatcher } from '../electron/control/dispatcher';
import { ControlBridgeServer } from '../electron/control/ws-bridge';
import { EVENT_CHANNEL, INVOKE_CHANNEL, type IpcInvokeEventLike, forwardEvents, registerControlIpc } from '../electron/electron-main/ipc';
import { ScriptedStation } from './contract-station.fixture';

const connectConfig = {
  server: { kind: 'host', port: 0 },
  name: 'FOH',
  lines: [{ line: 'Program', secret: 's3cret' }],
  iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
};

/** One valid and one invalid input per command; the invalid one names the offending field. */
const commandCases: Record<CommandName, { valid: unknown; invalid: unknown; field: string }> = {
  'station.connect': { valid: connectConfig, invalid: { ...connectConfig, server: { kind: 'remote', url: 'http://x' } }, field: 'server.url' },
  'devices.list': { valid: {}, invalid: { all: true }, field: '' },
  'devices.select': { valid: { inputId: 'PulseAudio:Desk mic:0', outputId: null }, invalid: { inputId: 7 }, field: 'inputId' },
  'devices.testTone': { valid: { on: true, frequencyHz: 440, levelDb: -20 }, invalid: { on: true, frequencyHz: 5 }, field: 'frequencyHz' },
  'station.getState': { valid: {}, invalid: { verbose: 1 }, field: '' },
  'lan.hosts': { valid: {}, invalid: { refresh: 'now' }, field: '' },
  'station.setLines': { valid: { lines: [{ line: 'Program' }, { line: 'Stage', secret: 'x' }] }, invalid: { lines: [{ line: 'Program' }, { line: '-bad' }] }, field: 'lines.1.line' },
  'line.setTalk': { valid: { line: 'Program', on: true }, invalid: { line: 'Program', on: 'yes' }, field: 'on' },
  'line.setListen': { valid: { line: 'Program', on: false }, invalid: { line: '', on: false }, field: 'line' },
  'line.setVolume': { valid: { line: 'Program', volume: 0.5 }, invalid: { line: 'Program', volume: 1.5 }, field: 'volume' },
  'line.call': { valid: { line: 'Program' }, invalid: { line: 'Program!' }, field: 'line' },
  'line.answerCall': { valid: { line: 'Program' }, invalid: { line: 7 }, field: 'line' },
  'talk.allOff': { valid: {}, invalid: { lines: ['Program'] }, field: '' },
  'talk.direct': { valid: { stationId: 'stage-left', on: true }, invalid: { stationId: '', on: true }, field: 'stationId' },
  'talk.reply': { valid: { on: false }, invalid: { on: 1 }, field: 'on' },
  'master.setMicMute': { valid: { muted: true }, invalid: { muted: 'yes' }, field: 'muted' },
  'master.setVolume': { valid: { volume: 0.8 }, invalid: { volume: -0.1 }, field: 'volume' },
  'master.setCallTone': { valid: { on: true }, invalid: { on: 'loud' }, field: 'on' },
  'settings.get': { valid: {}, invalid: { key: 'x' }, field: '' },
  'hotkeys.getState': { valid: {}, invalid: { all: true }, field: '' },
  'settings.update': { valid: { talkHoldThresholdMs: 400 }, invalid: { talkHoldThresholdMs: 5 }, field: 'talkHoldThresholdMs' },
  'app.info': { valid: {}, invalid: { x: 1 }, field: '' },
  'station.disconnect': { valid: {}, invalid: { force: 'now' }, field: '' },
  'update.getState': { valid: {}, invalid: { refresh: true }, field: '' },
  'update.check': { valid: {}, invalid: { channel: 'beta' }, field: '' },
  'update.setChannel': { valid: { channel: 'beta' }, invalid: { channel: 'nightly' }, field: 'channel' },
  'update.download': { valid: {}, invalid: { version: '9.9.9' }, field: '' },
  'update.restart': { valid: { confirmed: true }, invalid: { confirmed: 'yes' }, field: 'confirmed' },
};

const offer = { version: '1.1.0-beta.1', channel: 'beta', releaseDate: '2026-11-20T10:00:00.000Z', releaseNotes: null } as const;

const meter = { peakDb: -6, rmsDb: -18 };
const selection = { inputId: 'a', outputId: null, inputState: 'missing', outputState: 'ok' } as const;
const eventCases: Record<EventName, { valid: unknown; invalid: unknown; field: string }> = {
  meters: {
    valid: { t: 1, input: meter, output: { peakDb: METER_FLOOR_DB, rmsDb: METER_FLOOR_DB }, peers: { b: meter }, lines: { Program: meter } },
    invalid: { t: 1, input: meter, output: meter, peers: { b: { peakDb: null, rmsDb: -3 } } },
    field: 'peers.b.peakDb',
  },
  state: {
    valid: {
      connection: 'joined', stationId: 's', name: 'FOH', hosting: null, devices: selection, master: { micMuted: true, volume: 0.5, callTone: false },
      direct: { talkingTo: [], incoming: [{ stationId: 'g', name: 'Guest' }], replyTo: { stationId: 'g', name: 'Guest' } },
      lines: [{ line: 'Program', talk: true, listen: true, volume: 1, talkers: [{ stationId: 's', name: 'FOH' }], members: [{ stationId: 'g', name: 'Guest', kind: 'browser' }], call: { from: 'g', name: 'Guest' } }],
    },
    invalid: { connection: 'joined', stationId: 's', name: 'FOH', hosting: null, lines: [{ line: 'Program', talk: true, listen: true, volume: 3, talkers: [] }], devices: selection },
    field: 'lines.0.volume',
  },
  call: {
    valid: { line: 'Program', from: 'stage', name: 'Stage Left', on: false, reason: 'answered', by: { stationId: 'foh', name: 'FOH' } },
    invalid: { line: 'Program', from: 'stage', name: 'Stage Left', on: false, reason: 'shrugged' },
    field: 'reason',
  },
  presence: {
    valid: { peers: [{ stationId: 'b', name: 'Stage', kind: 'browser', lines: ['Program'], talking: [] }] },
    invalid: { peers: [{ stationId: 'b', name: 'Stage', kind: 'robot', lines: [], talking: [] }] },
    field: 'peers.0.kind',
  },
  health: {
    valid: { peers: [{ stationId: 'b', name: 'Stage', connection: 'connected', rttMs: 3, jitterMs: 1.5, lossRate: 0.01, playoutDelayMs: 40, targetDelayMs: 40, concealedFrames: 2 }] },
    invalid: { peers: [{ stationId: 'b', name: 'Stage', connection: 'connected', rttMs: null, jitterMs: 1, lossRate: 2, playoutDelayMs: 40, targetDelayMs: 40, concealedFrames: 0 }] },
    field: 'peers.0.lossRate',
  },
  devices: { valid: { selection }, invalid: { selection: { ...selection, inputState: 'gone' } }, field: 'selection.inputState' },
  notice: { valid: { level: 'warn', message: 'hello' }, invalid: { level: 'panic', message: 'x' }, field: 'level' },
  update: {
    valid: { phase: 'downloading', currentVersion: '1.0.0', channel: 'beta', offer, progress: { percent: 42, transferredBytes: 420, totalBytes: 1000, bytesPerSecond: 1e6 }, checkedAt: 1 },
    invalid: { phase: 'downloading', currentVersion: '1.0.0', channel: 'beta', offer, progress: { percent: 140, transferredBytes: 1400, totalBytes: 1000, bytesPerSecond: 1 }, checkedAt: 1 },
    field: 'progress.percent',
  },
};

test('the case tables cover every command and event of the contract', () => {
  assert.deepEqual(Object.keys(commandCases).sort(), [...COMMAND_NAMES].sort());
  assert.deepEqual(Object.keys(eventCases).sort(), [...EVENT_NAMES].sort());
});

describe('contract validation', () => {
  for (const name of COMMAND_NAMES) {
    test(`command ${name}: valid accepted, invalid rejected naming the field`, () => {
      const { valid, invalid, field } = commandCases[name];
      assert.equal(validateCommand(name, valid).ok, true);
      const bad = validateCommand(name, invalid);
      assert.equal(bad.ok, false);
      if (bad.ok) return;
      assert.equal(bad.error.code, 'invalid');
      assert.equal(bad.error.field ?? '', field);
    });
  }
  for (const name of EVENT_NAMES) {
    test(`event ${name}: valid accepted, invalid rejected naming the field`, () => {
      const { valid, invalid, field } = eventCases[name];
      assert.equal(validateEvent(name, valid).ok, true);
      const bad = validateEvent(name, invalid);
      assert.equal(bad.ok, false);
      if (!bad.ok) assert.equal(bad.error.field, field);
    });
  }
  test('unknown names are their own error codes', () => {
    const command = validateCommand('line.explode', {});
    assert.equal(command.ok ? null : command.error.code, 'unknown-command');
    const event = validateEvent('fireworks', {});
    assert.equal(event.ok ? null : event.error.code, 'unknown-event');
  });
});

/** A transport as seen from the outside: send a raw command, collect the events that come out. */
interface TransportUnderTest {
  call(cmd: unknown, input: unknown): Promise<DispatchResult>;
  events: { name: string; payload: unknown }[];
  close(): Promise<void>;
}

function dispatcherTransport(station: ScriptedStation, faults: string[]): TransportUnderTest {
  const dispatcher = new ControlDispatcher(station, { transport: 'ipc', reportFault: (m) => faults.push(m) });
  const events: TransportUnderTest['events'] = [];
  const stop = dispatcher.subscribe((name, payload) => events.push({ name, payload }));
  return { call: (cmd, input) => dispatcher.dispatch(cmd, input), events, close: async () => stop() };
}

function ipcTransport(station: ScriptedStation, faults: string[]): TransportUnderTest {
  const dispatcher = new ControlDispatcher(station, { transport: 'ipc', reportFault: (m) => faults.push(m) });
  const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  const fakeIpcMain = {
    handle: (channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>) => void handlers.set(channel, listener),
    removeHandler: (channel: string) => void handlers.delete(channel),
  };
  const unregister = registerControlIpc(fakeIpcMain, dispatcher);
  const events: TransportUnderTest['events'] = [];
  const fakeWebContents = {
    isDestroyed: () => false,
    mainFrame: { url: 'app://partyline/index.html' },
    send: (channel: string, name: unknown, payload: unknown) => {
      assert.equal(channel, EVENT_CHANNEL);
      events.push({ name: String(name), payload });
    },
  };
  const stop = forwardEvents(dispatcher, fakeWebContents);
  const appFrame: IpcInvokeEventLike = { senderFrame: { url: 'app://partyline/index.html' } };
  return {
    call: async (cmd, input) => {
      const handler = handlers.get(INVOKE_CHANNEL);
      assert.ok(handler, 'invoke handler registered');
      return (await handler(appFrame, { cmd, input })) as DispatchResult;
    },
    events,
    close: async () => {
      stop();
      unregister();
      assert.equal(handlers.size, 0);
    },
  };
}

async function bridgeTransport(station: ScriptedStation, faults: string[]): Promise<TransportUnderTest> {
  const bridge = new ControlBridgeServer({ control: station, reportFault: (m) => faults.push(m) });
  const { port, token } = await bridge.start();
  const socket = new WebSocket(`ws://127.0.0.1:${port}/control?token=${token}`);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const events: TransportUnderTest['events'] = [];
  const pending = new Map<number, (result: DispatchResult) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { id?: number; event?: string; payload?: unknown } & DispatchResult;
    if (message.event !== undefined) events.push({ name: message.event, payload: message.payload });
    else pending.get(message.id as number)?.(message);
  });
  let nextId = 1;
  return {
    call: (cmd, input) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, cmd, input }));
      }),
    events,
    close: async () => {
      socket.close();
      await bridge.close();
    },
  };
}

const transports: [string, (station: ScriptedStation, faults: string[]) => TransportUnderTest | Promise<TransportUnderTest>][] = [
  ['dispatcher', dispatcherTransport],
  ['ipc', ipcTransport],
  ['websocket bridge', bridgeTransport],
];

for (const [label, open] of transports) {
  describe(`contract through the ${label}`, () => {
    const station = new ScriptedStation();
    const faults: string[] = [];
    let transport: TransportUnderTest;
    before(async () => {
      transport = await open(station, faults);
      // Someone talked to us directly once: talk.reply has someone to answer.
      station.incomingDirect({ stationId: 'stage-left', name: 'Stage Left' }, true);
      station.incomingDirect({ stationId: 'stage-left', name: 'Stage Left' }, false);
    });
    after(() => transport.close());

    // station.connect first: the line commands need a joined line.
    for (const name of ['station.connect', ...COMMAND_NAMES.filter((n) => n !== 'station.connect' && n !== 'station.disconnect'), 'station.disconnect'] as CommandName[]) {
      test(`${name}: valid input answered with a contract-valid output`, async () => {
        const result = await transport.call(name, commandCases[name].valid);
        assert.equal(result.ok, true, JSON.stringify(result));
        if (result.ok) assert.equal(validateCommand(name, commandCases[name].valid).ok, true);
        assert.deepEqual(station.calls.at(-1)?.name, name);
      });
      test(`${name}: invalid input refused naming the field, station not called`, async () => {
        const callsBefore = station.calls.length;
        const result = await transport.call(name, commandCases[name].invalid);
        assert.equal(result.ok, false);
        if (result.ok) return;
        assert.equal(result.error.code, 'invalid');
        assert.equal(result.error.field ?? '', commandCases[name].field);
        assert.equal(station.calls.length, callsBefore);
      });
    }

    test('app.info names this transport', async () => {
      const result = await transport.call('app.info', {});
      assert.ok(result.ok);
      assert.equal((result.output as { transport: string }).transport, label === 'websocket bridge' ? 'websocket' : 'ipc');
    });

    test('unknown command refused as unknown-command', async () => {
      const result = await transport.call('line.explode', {});
      assert.deepEqual(result.ok ? null : result.error.code, 'unknown-command');
    });

    test('a station failure comes back typed, with the field it named', async () => {
      const result = await transport.call('line.setTalk', { line: 'Nowhere', on: true });
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.error.code, 'invalid');
        assert.equal(result.error.field, 'line');
        assert.match(result.error.message, /Nowhere/);
      }
    });

    test('every event type arrives valid; contract-breaking events are dropped and reported', async () => {
      const received = transport.events.length;
      for (const name of EVENT_NAMES) station.emit(name, eventCases[name].valid as never);
      for (const name of EVENT_NAMES) station.emitRaw(name, eventCases[name].invalid);
      station.emitRaw('fireworks', {});
      // One round trip flushes anything the bridge still had in flight.
      await transport.call('station.getState', {});
      const arrived = transport.events.slice(received);
      assert.deepEqual(
        arrived.map((event) => event.name),
        EVENT_NAMES,
      );
      for (const event of arrived) assert.deepEqual(event.payload, eventCases[event.name as EventName].valid);
      assert.equal(faults.filter((f) => f.includes('invalid event')).length, EVENT_NAMES.length + 1);
    });

    test('a station reply that breaks the contract is not passed on', async () => {
      const original = station.invoke.bind(station);
      station.invoke = (async () => ({ on: 'maybe' })) as typeof station.invoke;
      try {
        const result = await transport.call('devices.testTone', { on: true });
        assert.equal(result.ok ? null : result.error.code, 'failed');
        assert.ok(faults.some((f) => f.includes('devices.testTone')));
      } finally {
        station.invoke = original;
      }
    });
  });
}

describe('control-surface side (what the preload and the renderer use)', () => {
  test('inputs are checked before they leave; station errors and bad replies surface as typed errors', async () => {
    const sent: unknown[] = [];
    let reply: DispatchResult = { ok: true, output: { on: true } };
    const api = createPartylineApi(async (cmd, input) => {
      sent.push([cmd, input]);
      return reply;
    }, new EventHub());
    await assert.rejects(api.invoke('line.setVolume', { line: 'Program', volume: 4 }), (error: ControlCommandError) => error.code === 'invalid' && error.field === 'volume');
    assert.deepEqual(sent, [], 'an invalid command never left');
    assert.deepEqual(await api.invoke('devices.testTone', { on: true }), { on: true });
    reply = { ok: false, error: { code: 'invalid', field: 'line', message: 'not joined to line "X"' } };
    await assert.rejects(api.invoke('line.setTalk', { line: 'X', on: true }), (error: ControlCommandError) => error.field === 'line' && /not joined/.test(error.message));
    reply = { ok: true, output: { on: 'maybe' } };
    await assert.rejects(api.invoke('devices.testTone', { on: true }), (error: ControlCommandError) => error.code === 'failed' && error.field === 'on');
  });

  test('events reach listeners validated; unknown or malformed events are dropped and reported', () => {
    const faults: string[] = [];
    const hub = new EventHub((message) => faults.push(message));
    const notices: unknown[] = [];
    const stop = hub.on('notice', (payload) => notices.push(payload));
    hub.deliver('notice', { level: 'info', message: 'hi' });
    hub.deliver('notice', { level: 'shout', message: 'hi' });
    hub.deliver('fireworks', {});
    stop();
    hub.deliver('notice', { level: 'info', message: 'after unsubscribe' });
    assert.deepEqual(notices, [{ level: 'info', message: 'hi' }]);
    assert.equal(faults.length, 2);
    assert.match(faults[0] ?? '', /level/);
  });
});

test('joining a plain ws:// server takes an explicit insecure; the error names server.url and says why', () => {
  const join = (server: Record<string, unknown>) => ConnectConfig.safeParse({ server: { kind: 'remote', ...server }, name: 'FOH', lines: [{ line: 'Program' }], iceServers: [] });
  const refused = join({ url: 'ws://10.0.0.5:8420/' });
  assert.equal(refused.success, false);
  assert.deepEqual(refused.error?.issues.map((i) => [i.path.join('.'), /in clear/.test(i.message) && /insecure/.test(i.message)]), [['server.url', true]]);
  assert.equal(join({ url: 'ws://10.0.0.5:8420/', insecure: true }).success, true);
  assert.equal(join({ url: 'wss://10.0.0.5:8420/' }).success, true, 'wss:// needs nothing');
});
