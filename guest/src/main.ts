/** The guest page: join form, talk/listen keys, microphone meter and who is on (and talking on) the line. */
import { LINE_NAME_PATTERN, lineName } from '../../electron/common/line-name';
import { stationIdSchema, type Presence } from '../../electron/common/signalling-protocol';
import { DEFAULT_TALK_HOLD_MS, pressTalk, releaseTalk, type TalkGesture } from '../../electron/common/talk-key';
import { randomIdSuffix, slugStationId } from '../../electron/common/station-id';
import { GuestSignalling } from './signalling';
import { Microphone, type VoiceProcessing } from './microphone';
import { Remote } from './remote';

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
  const { signalling, joined } = admitted;
  if (!joined.lines.includes(line)) {
    signalling.leave();
    mic.close();
    throw new Error(`not admitted to line ${line}`);
  }
  const s: Session = { selfId, line, mic, signalling, remotes: new Map(), presence: new Map(), talking: false, listening: true };
  session = s;
  document.body.dataset.stationId = selfId;
  wire(s);
  meet(s, joined.peers);
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
    audio.muted = !s.listening;
    document.body.append(audio);
    r = new Remote({ selfId: s.selfId, remoteId: id, micTrack: s.mic.track, iceServers: [], send: (m) => s.signalling.send(m), audio });
    s.remotes.set(id, r);
  }
  return r;
}

function drop(s: Session, id: string): void {
  s.remotes.get(id)?.close();
  s.remotes.delete(id);
}

/** Everyone already on the line waits for the newcomer's offer. */
function meet(s: Session, peers: Presence[]): void {
  for (const p of peers) {
    s.presence.set(p.stationId, p);
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
  signalling.on('offer', (m) => void remoteFor(s, m.from).acceptOffer(m.sdp).catch(warn(`offer from ${m.from}`)));
  signalling.on('answer', (m) => void s.remotes.get(m.from)?.acceptAnswer(m.sdp).catch(warn(`answer from ${m.from}`)));
  signalling.on('candidate', (m) => void s.remotes.get(m.from)?.addCandidate(m.candidate).catch(warn(`candidate from ${m.from}`)));
  signalling.on('bye', (m) => drop(s, m.from));
  signalling.on('talk', (m) => {
    const p = s.presence.get(m.from);
    if (p) s.presence.set(m.from, { ...p, talking: m.lines });
  });
  signalling.on('error', (e) => setStatus(document.body.dataset.state ?? 'joined', `Server: ${e.message}`));
  void signalling.closed.then(() => {
    if (session === s) end(s, 'The signalling server closed the connection');
  });
}

function setTalk(s: Session, on: boolean): void {
  if (s.talking === on) return;
  s.talking = on;
  s.mic.track.enabled = on;
  $('talk').setAttribute('aria-pressed', String(on));
  s.signalling.send({ type: 'talk', lines: on ? [s.line] : [] });
}

function setListen(s: Session, on: boolean): void {
  s.listening = on;
  $('listen').setAttribute('aria-pressed', String(on));
  for (const a of document.querySelectorAll('audio')) a.muted = !on;
}

function end(s: Session, why: string): void {
  session = undefined;
  for (const id of [...s.remotes.keys()]) drop(s, id);
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

/** Tap latches (a second tap releases), hold talks only while held: the keypanel's gesture. */
function talkKey(): { down: () => void; up: () => void } {
  let gesture: TalkGesture | null = null;
  return {
    down: () => {
      if (!session || gesture) return;
      const pressed = pressTalk(session.talking, performance.now());
      gesture = pressed.gesture;
      setTalk(session, pressed.talk);
    },
    up: () => {
      if (!session || !gesture) return;
      const talk = releaseTalk(gesture, performance.now(), DEFAULT_TALK_HOLD_MS);
      gesture = null;
      if (talk !== null) setTalk(session, talk);
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
const key = talkKey();
const talk = $('talk');
talk.addEventListener('pointerdown', (e) => {
  talk.setPointerCapture(e.pointerId);
  key.down();
});
talk.addEventListener('pointerup', key.up);
talk.addEventListener('pointercancel', key.up);
$('listen').addEventListener('click', () => session && setListen(session, !session.listening));
$('leave').addEventListener('click', leave);
document.addEventListener('keydown', (e) => {
  if (e.repeat || e.target instanceof HTMLInputElement) return;
  if (e.key === 't' || e.key === 'T') key.down();
  if ((e.key === 'l' || e.key === 'L') && session) setListen(session, !session.listening);
});
document.addEventListener('keyup', (e) => {
  if (e.key === 't' || e.key === 'T') key.up();
});
addEventListener('pagehide', leave);
// Read-only handles for diagnostics (and the tests): the peer connections and the microphone track.
Object.assign(window, {
  partylinePeers: () => [...(session?.remotes.values() ?? [])].map((r) => r.pc),
  partylineMicrophone: () => session?.mic.track,
});
requestAnimationFrame(render);
