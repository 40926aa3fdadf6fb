/** The guest page: join form, talk/listen keys, microphone meter and who is on (and talking on) the line. */
import { LINE_NAME_PATTERN, lineName } from '../../electron/common/line-name';
import { stationIdSchema, type Presence } from '../../electron/common/signalling-protocol';
import { DEFAULT_TALK_HOLD_MS, pressTalk, releaseTalk, type TalkGesture } from '../../electron/common/talk-key';
import { randomIdSuffix, slugStationId } from '../../electron/common/station-id';
import { GuestSignalling } from './signalling';
import { Microphone, type VoiceProcessing } from './microphone';
import { Remote } from './remote';
import { GuestJanusRoom } from './janus-room';
import type { JanusLineAccess } from '../../electron/common/signalling-protocol';

/** RTP audio level (0..1 linear) above which a remote counts as speaking: about -50 dBov. */
const SPEAKING_LEVEL = 0.003;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

interface Session {
  selfId: string;
  line: string;
  mic: Microphone;
  signalling: GuestSignalling;
  remotes: Map<string, Remote>;
  presence: Map<string, Presence>;
  talking: boolean;
  listening: boolean;
  /** Set while the line's media goes through Janus instead of a call per member. */
  janus: { access: JanusLineAccess; room?: GuestJanusRoom } | undefined;
  /** Our microphone as each remote gets it: one clone per remote, so the reply key can open it to one alone. */
  mics: Map<string, MediaStreamTrack>;
  /** Stations talking to us directly now (heard whatever the listen key says), and the last one: whom reply answers. */
  incoming: Set<string>;
  replyTo: { stationId: string; name: string } | null;
  replying: boolean;
  /** The call flashing on our line, or null. */
  call: { from: string; name: string } | null;
}

let session: Session | undefined;

function setStatus(state: string, text: string): void {
  document.body.dataset.state = state;
  $('status').textContent = text;
}

function guestId(name: string): string {
  const slug = slugStationId(name, 40) || 'guest';
  const id = `${slug}-${randomIdSuffix()}`;
  return stationIdSchema.parse(id);
}

async function join(form: HTMLFormElement): Promise<void> {
  const data = new FormData(form);
  const name = String(data.get('name') ?? '').trim();
  const line = String(data.get('line') ?? '').trim();
  const secret = String(data.get('secret') ?? '');
  const checked = lineName.safeParse(line);
  if (!checked.success) throw new Error(checked.error.issues[0]?.message ?? 'line name is not valid');
  const processing: VoiceProcessing = {
    echoCancellation: data.has('echoCancellation'),
    noiseSuppression: data.has('noiseSuppression'),
    autoGainControl: data.has('autoGainControl'),
  };
  setStatus('joining', 'Opening the microphone…');
  const mic = await Microphone.open(processing);
  // The track streams from the start; the talk key only enables it, so RTP keeps flowing as proof of life.
  mic.track.enabled = false;
  const selfId = guestId(name);
  setStatus('joining', `Joining ${line}…`);
  let admitted;
  try {
    admitted = await GuestSignalling.join(selfId, name, [{ line, ...(secret ? { secret } : {}) }]);
  } catch (e) {
    mic.close();
    throw e;
  }
  const { signalling, joined, carriers } = admitted;
  if (!joined.lines.includes(line)) {
    signalling.leave();
    mic.close();
    throw new Error(`not admitted to line ${line}`);
  }
  const s: Session = {
    selfId, line, mic, signalling, remotes: new Map(), presence: new Map(), talking: false, listening: true, janus: undefined,
    mics: new Map(), incoming: new Set(), replyTo: null, replying: false, call: null,
  };
  session = s;
  document.body.dataset.stationId = selfId;
  wire(s);
  const carrier = carriers.filter((c) => c.line === line).pop();
  if (carrier?.carrier === 'janus' && carrier.janus) {
    for (const p of joined.peers) s.presence.set(p.stationId, p);
    joinJanus(s, carrier.janus);
  } else {
    meet(s, joined.peers);
  }
  $('join').hidden = true;
  $('panel').hidden = false;
  $('line-name').textContent = `${name} on ${line}`;
  setStatus('joined', `Joined ${line}`);
}

function remoteFor(s: Session, id: string): Remote {
  let r = s.remotes.get(id);
  if (!r) {
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.dataset.stationId = id;
    document.body.append(audio);
    const micTrack = s.mic.track.clone();
    s.mics.set(id, micTrack);
    r = new Remote({ selfId: s.selfId, remoteId: id, micTrack, iceServers: [], send: (m) => s.signalling.send(m), audio });
    s.remotes.set(id, r);
    applyMic(s);
    applyListen(s);
  }
  return r;
}

function drop(s: Session, id: string): void {
  s.remotes.get(id)?.close();
  s.remotes.delete(id);
  s.mics.get(id)?.stop();
  s.mics.delete(id);
  if (s.incoming.delete(id)) applyListen(s);
}

/** Each remote's copy of the microphone: open to all while talking on the line, to the replied-to station alone while replying. */
function applyMic(s: Session): void {
  for (const [id, track] of s.mics) track.enabled = s.talking || (s.replying && s.replyTo?.stationId === id);
  // A Janus room publishes the microphone itself, to everyone on the line: it carries the talk key alone.
  s.mic.track.enabled = s.janus !== undefined && s.talking;
}

/** The line's voices play while listening; a station talking to us directly plays regardless. */
function applyListen(s: Session): void {
  for (const a of document.querySelectorAll('audio')) a.muted = !s.listening && !s.incoming.has(a.dataset.stationId ?? '');
}

/** The line moved to Janus: the calls go, the room carries everyone. */
function joinJanus(s: Session, access: JanusLineAccess): void {
  for (const id of [...s.remotes.keys()]) drop(s, id);
  s.janus?.room?.close();
  const janus: NonNullable<Session['janus']> = { access };
  s.janus = janus;
  document.body.dataset.carrier = 'janus';
  GuestJanusRoom.join(access, s.selfId, s.mic.track, () => !s.listening, (why) => setStatus('joined', `Janus: ${why}`))
    .then((room) => {
      if (s.janus === janus && session === s) janus.room = room;
      else room.close();
    })
    .catch((e: Error) => setStatus('joined', `Janus: ${e.message}`));
}

/** Back on the mesh: the room goes, and we call everyone as a newcomer does. */
function leaveJanus(s: Session): void {
  if (!s.janus) return;
  s.janus.room?.close();
  s.janus = undefined;
  document.body.dataset.carrier = 'mesh';
  meet(s, [...s.presence.values()]);
}

/** Everyone already on the line waits for the newcomer's offer. */
function meet(s: Session, peers: Presence[]): void {
  for (const p of peers) {
    s.presence.set(p.stationId, p);
    if (s.janus) continue;
    if (!s.remotes.has(p.stationId)) void remoteFor(s, p.stationId).offer().catch((e: Error) => console.warn(`offer to ${p.stationId}: ${e.message}`));
  }
}

function wire(s: Session): void {
  const { signalling } = s;
  const warn = (what: string) => (e: Error) => console.warn(`${what}: ${e.message}`);
  signalling.on('joined', (m) => meet(s, m.peers));
  signalling.on('presence', (m) => {
    const seen = new Set(m.peers.map((p) => p.stationId));
    s.presence = new Map(m.peers.map((p) => [p.stationId, p]));
    for (const id of [...s.remotes.keys()]) if (!seen.has(id)) drop(s, id);
  });
  signalling.on('offer', (m) => {
    if (!s.janus) void remoteFor(s, m.from).acceptOffer(m.sdp).catch(warn(`offer from ${m.from}`));
  });
  signalling.on('line-carrier', (m) => {
    if (m.line !== s.line) return;
    if (m.carrier === 'janus' && m.janus) {
      if (s.janus?.access.room !== m.janus.room || s.janus.access.url !== m.janus.url) joinJanus(s, m.janus);
    } else {
      leaveJanus(s);
      if (m.janusError) setStatus('joined', `Joined ${s.line} (${m.janusError})`);
    }
  });
  signalling.on('answer', (m) => void s.remotes.get(m.from)?.acceptAnswer(m.sdp).catch(warn(`answer from ${m.from}`)));
  signalling.on('candidate', (m) => void s.remotes.get(m.from)?.addCandidate(m.candidate).catch(warn(`candidate from ${m.from}`)));
  signalling.on('bye', (m) => drop(s, m.from));
  signalling.on('talk', (m) => {
    const p = s.presence.get(m.from);
    if (p) s.presence.set(m.from, { ...p, talking: m.lines });
  });
  signalling.on('direct', (m) => {
    const name = s.presence.get(m.from)?.name ?? m.from;
    if (m.on) {
      s.incoming.add(m.from);
      s.replyTo = { stationId: m.from, name };
    } else s.incoming.delete(m.from);
    applyListen(s);
  });
  signalling.on('call', (m) => {
    if (m.line !== s.line) return;
    if (m.on) s.call = { from: m.from, name: m.name };
    else if (s.call?.from === m.from) s.call = null;
  });
  signalling.on('error', (e) => setStatus(document.body.dataset.state ?? 'joined', `Server: ${e.message}`));
  void signalling.closed.then(() => {
    if (session === s) end(s, 'The signalling server closed the connection');
  });
}

function setTalk(s: Session, on: boolean): void {
  if (s.talking === on) return;
  s.talking = on;
  applyMic(s);
  $('talk').setAttribute('aria-pressed', String(on));
  s.signalling.send({ type: 'talk', lines: on ? [s.line] : [] });
}

function setListen(s: Session, on: boolean): void {
  s.listening = on;
  $('listen').setAttribute('aria-pressed', String(on));
  applyListen(s);
  s.janus?.room?.setMuted(!on);
}

/** The reply key: talks to the last station that talked to us directly, to it alone. */
function setReply(s: Session, on: boolean): void {
  const to = s.replyTo;
  if (!to || s.replying === on) return;
  s.replying = on;
  applyMic(s);
  $('reply').setAttribute('aria-pressed', String(on));
  s.signalling.send({ type: 'direct', to: to.stationId, on });
}

/** Answering the call flashing on our line puts it out at every member. */
function answerCall(s: Session): void {
  if (s.call && s.call.from !== s.selfId) s.signalling.send({ type: 'call', line: s.line, on: false });
}

function end(s: Session, why: string): void {
  session = undefined;
  for (const id of [...s.remotes.keys()]) drop(s, id);
  s.janus?.room?.close();
  s.janus = undefined;
  s.mic.close();
  $('panel').hidden = true;
  $('join').hidden = false;
  setStatus('left', why);
}

function leave(): void {
  const s = session;
  if (!s) return;
  s.signalling.leave();
  end(s, `Left ${s.line}`);
}

/**
 * Tap latches (a second tap releases), hold talks only while held: the keypanel's gesture (common/talk-key.ts). `at`
 * is the input event's own time stamp, when the user pressed or released: a page busy between the two (setting up a
 * call) must not read a tap as a hold.
 */
function latchingKey(isOn: (s: Session) => boolean, set: (s: Session, on: boolean) => void): { down: (at: number) => void; up: (at: number) => void } {
  let gesture: TalkGesture | null = null;
  return {
    down: (at) => {
      if (!session || gesture) return;
      const pressed = pressTalk(isOn(session), at);
      gesture = pressed.gesture;
      set(session, pressed.talk);
    },
    up: (at) => {
      if (!session || !gesture) return;
      const on = releaseTalk(gesture, at, DEFAULT_TALK_HOLD_MS);
      gesture = null;
      if (on !== null) set(session, on);
    },
  };
}

function render(): void {
  const s = session;
  if (s) {
    ($('mic-meter') as HTMLMeterElement).value = s.talking ? s.mic.levelDb() : -60;
    const list = $('peers');
    const rows = [...s.presence.values()].map((p) => {
      const declared = p.talking.includes(s.line);
      const level = s.remotes.get(p.stationId)?.receivedLevel() ?? 0;
      const li = document.createElement('li');
      li.dataset.stationId = p.stationId;
      li.dataset.speaking = String(declared && level > SPEAKING_LEVEL);
      li.dataset.talking = String(declared);
      li.textContent = `${p.name}${p.kind === 'browser' ? ' (browser)' : ''}`;
      return li;
    });
    list.replaceChildren(...rows);
    const direct = [...s.incoming].map((id) => s.presence.get(id)?.name ?? id);
    $('direct').textContent = direct.length > 0 ? `${direct.join(', ')} talking to you` : '';
    const reply = $<HTMLButtonElement>('reply');
    reply.disabled = s.replyTo === null;
    reply.textContent = s.replyTo ? `Reply to ${s.replyTo.name}` : 'Reply (nobody yet)';
    const light = $<HTMLButtonElement>('call-light');
    const calling = s.call !== null && s.call.from !== s.selfId;
    light.dataset.lit = String(calling);
    light.disabled = !calling;
    light.textContent = calling ? `Call from ${s.call?.name ?? ''}: answer` : 'No call';
  }
  requestAnimationFrame(render);
}

const form = $<HTMLFormElement>('join');
// The browser checks the field against the same rule the station applies.
$<HTMLInputElement>('line').pattern = LINE_NAME_PATTERN;
form.addEventListener('submit', (e) => {
  e.preventDefault();
  join(form).catch((err: Error) => setStatus('error', err.message));
});
const key = latchingKey((s) => s.talking, setTalk);
const replyKey = latchingKey((s) => s.replying, setReply);
for (const [button, k] of [[$('talk'), key], [$('reply'), replyKey]] as const) {
  button.addEventListener('pointerdown', (e) => {
    button.setPointerCapture(e.pointerId);
    k.down(e.timeStamp);
  });
  button.addEventListener('pointerup', (e) => k.up(e.timeStamp));
  button.addEventListener('pointercancel', (e) => k.up(e.timeStamp));
}
$('call-light').addEventListener('click', () => session && answerCall(session));
$('listen').addEventListener('click', () => session && setListen(session, !session.listening));
$('leave').addEventListener('click', leave);
document.addEventListener('keydown', (e) => {
  if (e.repeat || e.target instanceof HTMLInputElement) return;
  if (e.key === 't' || e.key === 'T') key.down(e.timeStamp);
  if (e.key === 'r' || e.key === 'R') replyKey.down(e.timeStamp);
  if ((e.key === 'l' || e.key === 'L') && session) setListen(session, !session.listening);
});
document.addEventListener('keyup', (e) => {
  if (e.key === 't' || e.key === 'T') key.up(e.timeStamp);
  if (e.key === 'r' || e.key === 'R') replyKey.up(e.timeStamp);
});
addEventListener('pagehide', leave);
// Read-only handles for diagnostics (and the tests): the peer connections and the microphone track.
Object.assign(window, {
  partylinePeers: () => [...[...(session?.remotes.values() ?? [])].map((r) => r.pc), ...(session?.janus?.room?.pcs ?? [])],
  partylineMicrophone: () => session?.mic.track,
});
requestAnimationFrame(render);
