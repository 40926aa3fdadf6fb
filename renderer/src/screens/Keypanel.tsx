import { useEffect, useMemo, useRef, type KeyboardEvent, type PointerEvent } from 'react';
import type { DirectState, LineState, MasterState } from '../../../electron/common/contract';
import { HotkeyEditor } from '../keypanel/HotkeyEditor';
import { JoinLine } from '../keypanel/JoinLine';
import { leaving } from '../keypanel/line-changes';
import { MeterCanvas } from '../meters/MeterCanvas';
import { pressTalk, releaseTalk, type TalkGesture } from '../../../electron/common/talk-key';
import { type StationModel, useSnapshot } from '../model';

/** Keys 1–9 are the talk keys of strips 1–9; with Shift they toggle listen. */
function stripIndexForKey(code: string): number | null {
  const match = /^(?:Digit|Numpad)([1-9])$/.exec(code);
  return match ? Number(match[1]) - 1 : null;
}

function isTextEntry(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || (target instanceof HTMLInputElement && target.type !== 'range' && target.type !== 'checkbox') || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement);
}

export function Keypanel({ model }: { model: StationModel }) {
  const { state, settings } = useSnapshot(model);
  const threshold = settings?.talkHoldThresholdMs ?? 300;
  const hotkeys = useMemo(() => settings?.hotkeys ?? [], [settings]);
  const gestures = useRef(new Map<string, TalkGesture>());
  const lines = state?.connection === 'joined' || state?.connection === 'reconnecting' ? state.lines : [];

  const setTalk = async (line: string, on: boolean) => model.applyLine(await model.run('line.setTalk', { line, on }));
  // `at`: the input event's own time stamp. A renderer busy between press and release (a render, a burst of state
  // events) must not turn a tap into a hold, so the gesture is timed by when the operator acted, not when we ran.
  const press = (line: LineState, at: number) => {
    if (gestures.current.has(line.line)) return;
    const { talk, gesture } = pressTalk(line.talk, at);
    gestures.current.set(line.line, gesture);
    void setTalk(line.line, talk).catch(() => undefined);
  };
  const release = (line: string, at: number) => {
    const gesture = gestures.current.get(line);
    if (!gesture) return;
    gestures.current.delete(line);
    const next = releaseTalk(gesture, at, threshold);
    if (next !== null) void setTalk(line, next).catch(() => undefined);
  };
  const toggleListen = async (line: LineState) => model.applyLine(await model.run('line.setListen', { line: line.line, on: !line.listen }));

  // Private talk keys (one per station on our lines, and the reply key) latch and hold like the line keys.
  const direct = state?.direct ?? { talkingTo: [], incoming: [], replyTo: null };
  const directGestures = useRef(new Map<string, TalkGesture>());
  const setDirect = async (key: string, on: boolean) =>
    model.patchDirect(key === REPLY_KEY ? await model.run('talk.reply', { on }) : await model.run('talk.direct', { stationId: key, on }));
  const pressDirect = (key: string, on: boolean, at: number) => {
    if (directGestures.current.has(key)) return;
    const { talk, gesture } = pressTalk(on, at);
    directGestures.current.set(key, gesture);
    void setDirect(key, talk).catch(() => undefined);
  };
  const releaseDirect = (key: string, at: number) => {
    const gesture = directGestures.current.get(key);
    if (!gesture) return;
    directGestures.current.delete(key);
    const next = releaseTalk(gesture, at, threshold);
    if (next !== null) void setDirect(key, next).catch(() => undefined);
  };
  const talkingTo = (stationId: string) => direct.talkingTo.some((t) => t.stationId === stationId);

  // Latest values for the window-level shortcut handlers without re-binding them on every state event.
  const current = useRef({ lines, press, release, toggleListen, releaseDirect });
  current.current = { lines, press, release, toggleListen, releaseDirect };
  useEffect(() => {
    const down = (event: globalThis.KeyboardEvent) => {
      const index = stripIndexForKey(event.code);
      if (index === null || event.ctrlKey || event.metaKey || event.altKey || isTextEntry(event.target)) return;
      const line = current.current.lines[index];
      if (!line) return;
      event.preventDefault();
      if (event.repeat) return;
      if (event.shiftKey) void current.current.toggleListen(line).catch(() => undefined);
      else current.current.press(line, event.timeStamp);
    };
    const up = (event: globalThis.KeyboardEvent) => {
      const index = stripIndexForKey(event.code);
      const line = index === null ? undefined : current.current.lines[index];
      if (line) current.current.release(line.line, event.timeStamp);
    };
    // Losing focus mid-hold must not leave a momentary talk keyed.
    const blur = (event: FocusEvent) => {
      for (const line of [...gestures.current.keys()]) current.current.release(line, event.timeStamp);
      for (const key of [...directGestures.current.keys()]) current.current.releaseDirect(key, event.timeStamp);
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', blur);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('blur', blur);
    };
  }, []);

  const saveThreshold = (value: number) => {
    if (Number.isInteger(value) && value >= 50 && value <= 2000) {
      void model.run('settings.update', { talkHoldThresholdMs: value }).then((saved) => model.patch({ settings: saved }), () => undefined);
    }
  };

  const runLine = (promise: Promise<LineState>) => void promise.then((next) => model.applyLine(next), () => undefined);
  // Leaving one line keeps the others on air; a failure shows as a notice.
  const leave = (line: string) =>
    void model.run('station.setLines', { lines: leaving(lines.map((l) => l.line), line) }).then((next) => model.patch({ state: next }), () => undefined);
  const master = state?.master ?? { micMuted: false, volume: 1, callTone: false };

  if (lines.length === 0) {
    return (
      <section aria-labelledby="keypanel-title" className="panel">
        <h2 id="keypanel-title">Keypanel</h2>
        <p className="empty">Not on any line. Join from the Connect screen.</p>
      </section>
    );
  }

  return (
    <section aria-labelledby="keypanel-title" className="panel">
      <div className="panel-head">
        <h2 id="keypanel-title">Keypanel</h2>
        <label className="inline-field">
          Hold for momentary after
          <input
            type="number"
            min={50}
            max={2000}
            step={50}
            defaultValue={threshold}
            key={threshold}
            onBlur={(event) => saveThreshold(Number(event.currentTarget.value))}
            aria-describedby="threshold-help"
          />
          ms
        </label>
      </div>
      <p id="threshold-help" className="help">
        Tap a talk key to latch it; hold it longer than the threshold to talk only while held. Keys 1–9 talk on strips 1–9, Shift+1–9 toggles listen.
      </p>
      <div className="operate">
        <MasterSection
          model={model}
          master={master}
          direct={direct}
          replying={direct.replyTo !== null && talkingTo(direct.replyTo.stationId)}
          onReplyPress={(at) => pressDirect(REPLY_KEY, direct.replyTo !== null && talkingTo(direct.replyTo.stationId), at)}
          onReplyRelease={(at) => releaseDirect(REPLY_KEY, at)}
          anyTalk={lines.some((line) => line.talk) || direct.talkingTo.length > 0}
          onMute={(muted) => void model.run('master.setMicMute', { muted }).then((next) => model.patchMaster(next), () => undefined)}
          onVolume={(volume) => void model.run('master.setVolume', { volume }).then((next) => model.patchMaster(next), () => undefined)}
          onCallTone={(on) => void model.run('master.setCallTone', { on }).then((next) => model.patchMaster(next), () => undefined)}
          onAllOff={() => void model.run('talk.allOff', {}).then((next) => model.patch({ state: next }), () => undefined)}
        />
        <ol className="strips" aria-label="Lines">
          {lines.map((line, index) => (
            <LineStrip
              key={line.line}
              model={model}
              line={line}
              ownId={state?.stationId ?? null}
              shortcut={index < 9 ? String(index + 1) : null}
              onPress={(at) => press(line, at)}
              onRelease={(at) => release(line.line, at)}
              onListen={() => void toggleListen(line).catch(() => undefined)}
              onVolume={(volume) => runLine(model.run('line.setVolume', { line: line.line, volume }))}
              onCall={() => runLine(model.run(line.call ? 'line.answerCall' : 'line.call', { line: line.line }))}
              onLeave={lines.length > 1 ? () => leave(line.line) : null}
              talkingTo={talkingTo}
              onDirectPress={(stationId, at) => pressDirect(stationId, talkingTo(stationId), at)}
              onDirectRelease={releaseDirect}
            />
          ))}
        </ol>
      </div>
      <JoinLine model={model} held={lines.map((l) => l.line)} />
      <HotkeyEditor model={model} lines={lines} saved={hotkeys} />
    </section>
  );
}

/** The reply key's gesture key; station ids never contain a space. */
const REPLY_KEY = 'reply to';

/** Pointer and keyboard handlers of a key that latches on a tap and is momentary when held (see talk-key.ts). */
function pressable(onPress: (at: number) => void, onRelease: (at: number) => void) {
  return {
    onPointerDown: (event: PointerEvent<HTMLButtonElement>) => {
      if (event.button !== 0) return;
      event.currentTarget.setPointerCapture(event.pointerId);
      onPress(event.timeStamp);
    },
    onPointerUp: (event: PointerEvent<HTMLButtonElement>) => onRelease(event.timeStamp),
    onPointerCancel: (event: PointerEvent<HTMLButtonElement>) => onRelease(event.timeStamp),
    onKeyDown: (event: KeyboardEvent<HTMLButtonElement>) => {
      if (event.key !== ' ' && event.key !== 'Enter') return;
      event.preventDefault();
      if (!event.repeat) onPress(event.timeStamp);
    },
    onKeyUp: (event: KeyboardEvent<HTMLButtonElement>) => {
      if (event.key !== ' ' && event.key !== 'Enter') return;
      event.preventDefault();
      onRelease(event.timeStamp);
    },
    onClick: (event: { preventDefault(): void }) => event.preventDefault(),
  };
}

interface MasterProps {
  model: StationModel;
  master: MasterState;
  direct: DirectState;
  replying: boolean;
  onReplyPress: (at: number) => void;
  onReplyRelease: (at: number) => void;
  anyTalk: boolean;
  onMute: (muted: boolean) => void;
  onVolume: (volume: number) => void;
  onCallTone: (on: boolean) => void;
  onAllOff: () => void;
}

const MASTER_METERS = [
  { key: 'input', label: 'Mic' },
  { key: 'output', label: 'Speaker' },
];

function MasterSection({ model, master, direct, replying, onReplyPress, onReplyRelease, anyTalk, onMute, onVolume, onCallTone, onAllOff }: MasterProps) {
  const reply = pressable(onReplyPress, onReplyRelease);
  return (
    <section className="master" aria-labelledby="master-title">
      <h3 id="master-title">Master</h3>
      <p className={`direct-incoming${direct.incoming.length > 0 ? ' lit' : ''}`} role="status" aria-label="Private talk to you">
        <span className="lamp" aria-hidden="true" />
        <span>{direct.incoming.length > 0 ? `${direct.incoming.map((t) => t.name).join(', ')} talking to you` : 'No private talk'}</span>
      </p>
      <MeterCanvas model={model} channels={MASTER_METERS} label="Master levels" labelWidth={64} />
      <div className="master-keys">
        <button type="button" className={`mic-mute${master.micMuted ? ' on' : ''}`} aria-pressed={master.micMuted} onClick={() => onMute(!master.micMuted)}>
          {master.micMuted ? 'Mic muted' : 'Mic mute'}
        </button>
        <button type="button" className="all-talk-off" disabled={!anyTalk} onClick={onAllOff}>
          All talk off
        </button>
      </div>
      <button type="button" className={`reply-key${replying ? ' on' : ''}`} aria-pressed={replying} disabled={direct.replyTo === null} {...reply}>
        {direct.replyTo ? `Reply to ${direct.replyTo.name}` : 'Reply (nobody yet)'}
      </button>
      <label className="volume">
        <span>Master</span>
        <input
          type="range"
          min={0}
          max={1}
          step={0.01}
          value={master.volume}
          aria-label="Master volume"
          aria-valuetext={`${Math.round(master.volume * 100)}%`}
          onChange={(event) => onVolume(Number(event.currentTarget.value))}
        />
        <output>{Math.round(master.volume * 100)}%</output>
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={master.callTone} onChange={(event) => onCallTone(event.currentTarget.checked)} />
        Call tone (a short beep when a line calls)
      </label>
    </section>
  );
}

interface StripProps {
  model: StationModel;
  line: LineState;
  ownId: string | null;
  shortcut: string | null;
  onPress: (at: number) => void;
  onRelease: (at: number) => void;
  onListen: () => void;
  onVolume: (volume: number) => void;
  onCall: () => void;
  /** Null on the last line: a station on air is on at least one (disconnect from Connect instead). */
  onLeave: (() => void) | null;
  talkingTo: (stationId: string) => boolean;
  onDirectPress: (stationId: string, at: number) => void;
  onDirectRelease: (stationId: string, at: number) => void;
}

function LineStrip({ model, line, ownId, shortcut, onPress, onRelease, onListen, onVolume, onCall, onLeave, talkingTo, onDirectPress, onDirectRelease }: StripProps) {
  const activeTalkers = line.talkers.map((talker) => talker.name).join(', ');
  const members = line.members ?? [];
  const call = line.call ?? null;
  const outgoing = call !== null && call.from === ownId;
  const meterChannels = useMemo(() => [{ key: `line:${line.line}`, label: 'Level' }], [line.line]);
  const keyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== ' ' && event.key !== 'Enter') return;
    event.preventDefault();
    if (!event.repeat) onPress(event.timeStamp);
  };
  const keyUp = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== ' ' && event.key !== 'Enter') return;
    event.preventDefault();
    onRelease(event.timeStamp);
  };
  const pointerDown = (event: PointerEvent<HTMLButtonElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    onPress(event.timeStamp);
  };
  const pointerUp = (event: PointerEvent<HTMLButtonElement>) => onRelease(event.timeStamp);
  return (
    <li className="strip" data-line={line.line}>
      <div className="strip-head">
        <span className="line-name">{line.line}</span>
        {line.carrier && (line.carrier.kind === 'janus' || line.carrier.error) ? (
          <span
            className={`carrier${line.carrier.error || line.carrier.janus === 'failed' ? ' fault' : ''}`}
            role="status"
            data-carrier={line.carrier.kind}
            title={line.carrier.error ?? (line.carrier.kind === 'janus' ? `Carried by the media server (${line.carrier.janus ?? 'connecting'})` : undefined)}
          >
            {line.carrier.kind === 'janus' ? `Media server${line.carrier.janus && line.carrier.janus !== 'connected' ? `: ${line.carrier.janus}` : ''}` : 'Mesh (media server down)'}
          </span>
        ) : null}
        <span
          className={`call-light${call ? (outgoing ? ' outgoing' : ' lit') : ''}`}
          role="status"
          aria-label={`Call light on ${line.line}`}
          data-call-from={call?.from}
        >
          <span className="lamp" aria-hidden="true" />
          <span className="call-text">{call ? (outgoing ? 'Calling…' : `Call from ${call.name}`) : 'No call'}</span>
        </span>
      </div>
      <span className={`activity${line.talkers.length > 0 ? ' lit' : ''}`} role="status" aria-label={`Talking on ${line.line}`}>
        <span className="lamp" aria-hidden="true" />
        <span className="talkers">{activeTalkers || 'quiet'}</span>
      </span>
      <MeterCanvas model={model} channels={meterChannels} label={`${line.line} level`} labelWidth={48} />
      <div className="strip-keys">
        <button
          type="button"
          className={`talk-key${line.talk ? ' on' : ''}`}
          aria-pressed={line.talk}
          aria-keyshortcuts={shortcut ?? undefined}
          onPointerDown={pointerDown}
          onPointerUp={pointerUp}
          onPointerCancel={pointerUp}
          onKeyDown={keyDown}
          onKeyUp={keyUp}
          onClick={(event) => event.preventDefault()}
        >
          Talk{shortcut ? <kbd>{shortcut}</kbd> : null}
        </button>
        <button type="button" className={`listen-key${line.listen ? ' on' : ''}`} aria-pressed={line.listen} onClick={onListen}>
          Listen
        </button>
        <button type="button" className={`call-key${call && !outgoing ? ' answer' : ''}`} onClick={onCall}>
          {call ? (outgoing ? 'Cancel call' : 'Answer') : 'Call'}
        </button>
      </div>
      <label className="volume">
        <span>Volume</span>
        <input
          type="range"
          min={0}
          max={1}
          step={0.01}
          value={line.volume}
          aria-valuetext={`${Math.round(line.volume * 100)}%`}
          onChange={(event) => onVolume(Number(event.currentTarget.value))}
        />
        <output>{Math.round(line.volume * 100)}%</output>
      </label>
      <div className="roster">
        <span className="roster-title" id={`roster-${line.line.replace(/\W/g, '_')}`}>
          On {line.line} ({members.length})
        </span>
        {members.length === 0 ? (
          <p className="empty">Nobody else yet.</p>
        ) : (
          <ul aria-labelledby={`roster-${line.line.replace(/\W/g, '_')}`}>
            {members.map((member) => (
              <li key={member.stationId} data-station={member.stationId} data-kind={member.kind}>
                <button
                  type="button"
                  className={`direct-key${talkingTo(member.stationId) ? ' on' : ''}`}
                  aria-pressed={talkingTo(member.stationId)}
                  aria-label={`Talk to ${member.name} alone`}
                  title={`Talk to ${member.name} alone: tap latches, hold is momentary`}
                  {...pressable((at) => onDirectPress(member.stationId, at), (at) => onDirectRelease(member.stationId, at))}
                >
                  <span className="member-name">{member.name}</span>
                  <span className="member-kind">{member.kind === 'browser' ? 'browser' : 'station'}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {/* Away from the keys operated during a show, so it is not hit by accident. */}
      <div className="strip-foot">
        <button
          type="button"
          className="leave-key quiet"
          aria-label={`Leave ${line.line}`}
          title={onLeave ? `Leave ${line.line}; the other lines stay on air` : 'The last line: disconnect from the Connect screen instead'}
          disabled={!onLeave}
          onClick={onLeave ?? undefined}
        >
          Leave
        </button>
      </div>
    </li>
  );
}
