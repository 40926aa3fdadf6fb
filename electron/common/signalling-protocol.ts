/**
 * The signalling protocol spoken between stations, browser guests and the signalling server:
 * JSON text frames, every message an object with a `type`. Shared with the browser, so it
 * imports only zod. The prose description lives in docs/signalling.md.
 */
import { z } from 'zod';
import { lineName } from './line-name';
import { Fingerprint } from './fingerprint';

export const PROTOCOL_VERSION = 1;

/** Longest SDP accepted in an offer or answer, in characters (SDP is ASCII). */
export const MAX_SDP_CHARS = 64 * 1024;

/**
 * Largest client message accepted, in UTF-8 bytes of the JSON text. A maximal SDP grows when
 * JSON-escaped (every CRLF becomes four bytes) and the envelope adds a little; 96 KiB leaves
 * room for both while still refusing anything that is not signalling.
 */
export const MAX_MESSAGE_BYTES = 96 * 1024;

export const MAX_LINES = 32;

/** How long a call signal flashes unanswered before the server ends it, ms. */
export const CALL_TIMEOUT_MS = 10_000;

const identifier = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(64, `${what} must be at most 64 characters`)
    .regex(/^[A-Za-z0-9_.-]+$/, `${what} may contain only A-Z a-z 0-9 _ . -`);

export const stationIdSchema = identifier('station id');
/** Line names follow the contract's rule (spaces allowed); station ids do not take spaces. */
export const lineNameSchema = lineName;
export const stationNameSchema = z
  .string()
  .min(1, 'name must not be empty')
  .max(64, 'name must be at most 64 characters');
export const stationKindSchema = z.enum(['station', 'browser']);

export const lineCredentialSchema = z.object({
  line: lineNameSchema,
  secret: z.string().max(256, 'secret must be at most 256 characters').optional(),
});

/** A set of line names: no repeats, at most MAX_LINES. */
function distinctLines<T>(lineOf: (item: T) => string, field: (index: number) => (string | number)[]) {
  return (items: T[], ctx: z.core.$RefinementCtx<T[]>) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const line = lineOf(item);
      if (seen.has(line)) {
        ctx.addIssue({ code: 'custom', path: field(index), message: `line ${line} is listed twice` });
      }
      seen.add(line);
    });
  };
}

const lineCredentialsSchema = z
  .array(lineCredentialSchema)
  .max(MAX_LINES, `at most ${MAX_LINES} lines`)
  .superRefine(distinctLines((c) => c.line, (i) => [i, 'line']));

const lineNamesSchema = z
  .array(lineNameSchema)
  .max(MAX_LINES, `at most ${MAX_LINES} lines`)
  .superRefine(distinctLines((l: string) => l, (i) => [i]));

const sdpSchema = z.string().min(1, 'sdp must not be empty').max(MAX_SDP_CHARS, `sdp must be at most ${MAX_SDP_CHARS} characters`);

/** RTCIceCandidateInit as a browser's candidate.toJSON() produces it. */
export const iceCandidateSchema = z.object({
  candidate: z.string().max(4096),
  sdpMid: z.string().max(256).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(65535).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

// ---- client -> server ----

export const joinMessageSchema = z.object({
  type: z.literal('join'),
  stationId: stationIdSchema,
  name: stationNameSchema,
  kind: stationKindSchema,
  lines: lineCredentialsSchema,
  // Any integer parses, so that a client speaking another version gets `protocol-version`, not `invalid`.
  protocol: z.number().int(),
  /**
   * How the client wants presence: `delta` (a `presence-delta` per change) or `full` (a complete `presence` list
   * per change, the default). A server that predates deltas ignores the field and sends full lists.
   */
  presence: z.enum(['full', 'delta']).optional(),
  /**
   * A secret the client draws once and sends with every join. A join whose token matches the one the current holder
   * of its station id joined with is that same client back after a network cut: it takes over at once, where any
   * other join waits for the holder's socket to prove dead (up to 2 s).
   */
  resume: z.string().min(16).max(128).optional(),
  /**
   * The lines the station talks on as it joins: a station back after a server restart or a cut is listed talking
   * from its first presence, so its listeners never mute it while its `talk` is on the way. Lines it was not
   * admitted to are left out.
   */
  talking: lineNamesSchema.optional(),
});

export const offerMessageSchema = z.object({ type: z.literal('offer'), to: stationIdSchema, sdp: sdpSchema });
export const answerMessageSchema = z.object({ type: z.literal('answer'), to: stationIdSchema, sdp: sdpSchema });
export const candidateMessageSchema = z.object({
  type: z.literal('candidate'),
  to: stationIdSchema,
  /** null or absent: end of candidates. */
  candidate: iceCandidateSchema.nullable().optional(),
});
export const byeMessageSchema = z.object({ type: z.literal('bye'), to: stationIdSchema.optional() });
export const talkMessageSchema = z.object({ type: z.literal('talk'), lines: lineNamesSchema });
export const linesMessageSchema = z.object({ type: z.literal('lines'), lines: lineCredentialsSchema });
export const pingMessageSchema = z.object({ type: z.literal('ping'), t: z.number() });
/** on: true calls every other member of the line; on: false answers the call flashing there (the caller cancels it). */
export const callMessageSchema = z.object({ type: z.literal('call'), line: lineNameSchema, on: z.boolean() });

/** Private talk: the sender's microphone goes to `to` alone, which plays it whatever its line keys say. */
export const directMessageSchema = z.object({ type: z.literal('direct'), to: stationIdSchema, on: z.boolean() });

export const clientMessageSchema = z.discriminatedUnion('type', [
  joinMessageSchema,
  offerMessageSchema,
  answerMessageSchema,
  candidateMessageSchema,
  byeMessageSchema,
  talkMessageSchema,
  linesMessageSchema,
  pingMessageSchema,
  callMessageSchema,
  directMessageSchema,
]);

// ---- server -> client ----

export const presenceSchema = z.object({
  stationId: stationIdSchema,
  name: stationNameSchema,
  kind: stationKindSchema,
  /** Only the lines the receiver shares with this station. */
  lines: z.array(lineNameSchema),
  /** The shared lines this station is talking on. */
  talking: z.array(lineNameSchema),
});

export const errorCodeSchema = z.enum([
  'malformed',
  'invalid',
  'too-large',
  'unknown-type',
  'not-joined',
  'already-joined',
  'duplicate-station',
  'bad-secret',
  'unknown-peer',
  'not-a-peer',
  'rate-limited',
  'protocol-version',
  'line-full',
  'too-many-connections',
]);

export const joinedMessageSchema = z.object({
  type: z.literal('joined'),
  stationId: stationIdSchema,
  lines: z.array(lineNameSchema),
  peers: z.array(presenceSchema),
});
export const presenceMessageSchema = z.object({ type: z.literal('presence'), peers: z.array(presenceSchema) });
/**
 * What changed in the receiver's presence since the last `joined`, `presence` or `presence-delta`: stations to add
 * or replace (`set`), stations gone from every shared line (`gone`). A station id appears at most once in either.
 */
export const presenceDeltaMessageSchema = z.object({
  type: z.literal('presence-delta'),
  set: z.array(presenceSchema),
  gone: z.array(stationIdSchema),
});
export const relayedOfferSchema = offerMessageSchema.extend({ from: stationIdSchema });
export const relayedAnswerSchema = answerMessageSchema.extend({ from: stationIdSchema });
export const relayedCandidateSchema = candidateMessageSchema.extend({ from: stationIdSchema });
export const relayedByeSchema = byeMessageSchema.extend({ from: stationIdSchema });
export const relayedTalkSchema = talkMessageSchema.extend({ from: stationIdSchema });
export const relayedDirectSchema = directMessageSchema.extend({ from: stationIdSchema });
export const pongMessageSchema = z.object({ type: z.literal('pong'), t: z.number() });
export const callEndReasonSchema = z.enum(['answered', 'cancelled', 'timeout', 'left']);
/** A call on a line, to every member including the caller: started (on: true) or ended (on: false, with why). */
export const relayedCallSchema = z.object({
  type: z.literal('call'),
  line: lineNameSchema,
  on: z.boolean(),
  /** The caller. */
  from: stationIdSchema,
  name: stationNameSchema,
  reason: callEndReasonSchema.optional(),
  /** Who answered (reason 'answered'). */
  by: z.object({ stationId: stationIdSchema, name: stationNameSchema }).optional(),
});
export const errorMessageSchema = z.object({
  type: z.literal('error'),
  code: errorCodeSchema,
  message: z.string(),
  /** The JSON path of the offending field (for bad-secret: the line name). */
  field: z.string().optional(),
  /** The `type` of the message that caused the error, when it had one. */
  ref: z.string().optional(),
});

/**
 * Where a Janus-carried line's media goes: the Janus WebSocket API, the VideoRoom room, and its pin. `fingerprint`
 * (wss:// only) is the SHA-256 the server pins Janus's certificate to: a station trusts exactly that certificate
 * (self-signed, any host name), as the server does; without it, the system's CAs. Browsers cannot pin.
 */
export const janusLineAccessSchema = z.object({
  url: z.string().regex(/^wss?:\/\/[^\s]+$/, 'a ws:// or wss:// URL'),
  room: z.number().int().positive(),
  pin: z.string().max(256).optional(),
  fingerprint: Fingerprint.optional(),
});
/**
 * How a line's media travels: over the mesh (a peer per member, the default) or through Janus (`janus` says where).
 * `janusError` says why a line meant for Janus is on the mesh now (Janus unreachable or gone).
 */
export const lineCarrierMessageSchema = z.object({
  type: z.literal('line-carrier'),
  line: lineNameSchema,
  carrier: z.enum(['mesh', 'janus']),
  janus: janusLineAccessSchema.optional(),
  janusError: z.string().optional(),
});

export const serverMessageSchema = z.discriminatedUnion('type', [
  joinedMessageSchema,
  presenceMessageSchema,
  presenceDeltaMessageSchema,
  relayedOfferSchema,
  relayedAnswerSchema,
  relayedCandidateSchema,
  relayedByeSchema,
  relayedTalkSchema,
  pongMessageSchema,
  errorMessageSchema,
  relayedCallSchema,
  relayedDirectSchema,
  lineCarrierMessageSchema,
]);

export type StationKind = z.infer<typeof stationKindSchema>;
export type LineCredential = z.infer<typeof lineCredentialSchema>;
export type IceCandidate = z.infer<typeof iceCandidateSchema>;
export type JoinMessage = z.infer<typeof joinMessageSchema>;
export type OfferMessage = z.infer<typeof offerMessageSchema>;
export type AnswerMessage = z.infer<typeof answerMessageSchema>;
export type CandidateMessage = z.infer<typeof candidateMessageSchema>;
export type ByeMessage = z.infer<typeof byeMessageSchema>;
export type TalkMessage = z.infer<typeof talkMessageSchema>;
export type LinesMessage = z.infer<typeof linesMessageSchema>;
export type PingMessage = z.infer<typeof pingMessageSchema>;
export type CallMessage = z.infer<typeof callMessageSchema>;
export type DirectMessage = z.infer<typeof directMessageSchema>;
export type RelayedDirect = z.infer<typeof relayedDirectSchema>;
export type RelayedCall = z.infer<typeof relayedCallSchema>;
export type CallEndReason = z.infer<typeof callEndReasonSchema>;
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];

export type Presence = z.infer<typeof presenceSchema>;
export type ErrorCode = z.infer<typeof errorCodeSchema>;
export type JoinedMessage = z.infer<typeof joinedMessageSchema>;
export type PresenceMessage = z.infer<typeof presenceMessageSchema>;
export type PresenceDeltaMessage = z.infer<typeof presenceDeltaMessageSchema>;
export type RelayedOffer = z.infer<typeof relayedOfferSchema>;
export type RelayedAnswer = z.infer<typeof relayedAnswerSchema>;
export type RelayedCandidate = z.infer<typeof relayedCandidateSchema>;
export type RelayedBye = z.infer<typeof relayedByeSchema>;
export type RelayedTalk = z.infer<typeof relayedTalkSchema>;
export type PongMessage = z.infer<typeof pongMessageSchema>;
export type ErrorMessage = z.infer<typeof errorMessageSchema>;
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type JanusLineAccess = z.infer<typeof janusLineAccessSchema>;
export type LineCarrierMessage = z.infer<typeof lineCarrierMessageSchema>;

export interface ProtocolError {
  code: ErrorCode;
  message: string;
  field?: string;
  /** The message's `type`, when it had a recognisable one. */
  ref?: string;
}

export type ParseResult<T> = { ok: true; msg: T } | { ok: false; error: ProtocolError };

const CLIENT_TYPES = new Set<string>(clientMessageSchema.options.map((o) => o.shape.type.value));
const SERVER_TYPES = new Set<string>(serverMessageSchema.options.map((o) => o.shape.type.value));

const utf8 = new TextEncoder();

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Validates an already-decoded value as a message of `schema`, naming the first problem. */
export function validateMessage<T extends { type: string }>(
  schema: z.ZodType<T>,
  knownTypes: ReadonlySet<string>,
  value: unknown,
): ParseResult<T> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: { code: 'malformed', message: 'a message must be a JSON object' } };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    return { ok: false, error: { code: 'invalid', message: 'type must be a string', field: 'type' } };
  }
  if (!knownTypes.has(type)) {
    // Echo at most 64 characters back: the reply must not amplify what the sender sent.
    const shown = type.slice(0, 64);
    return { ok: false, error: { code: 'unknown-type', message: `unknown message type ${JSON.stringify(shown)}`, field: 'type', ref: shown } };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? fieldPath(issue.path) : '';
    return {
      ok: false,
      error: { code: 'invalid', message: issue ? `${field || 'message'}: ${issue.message}` : 'invalid message', field, ref: type },
    };
  }
  return { ok: true, msg: parsed.data };
}

function decode(text: string): ParseResult<unknown> {
  try {
    return { ok: true, msg: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: { code: 'malformed', message: 'a message must be JSON text' } };
  }
}

/** Parses a client -> server frame, enforcing MAX_MESSAGE_BYTES and the protocol version. */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  const bytes = utf8.encode(text).length;
  if (bytes > MAX_MESSAGE_BYTES) {
    return { ok: false, error: { code: 'too-large', message: `message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}` } };
  }
  const decoded = decode(text);
  if (!decoded.ok) return decoded;
  return checkClientMessage(decoded.msg);
}

/** Validates a client message given as a value (what SignallingClient.send does before sending). */
export function checkClientMessage(value: unknown): ParseResult<ClientMessage> {
  const result = validateMessage(clientMessageSchema, CLIENT_TYPES, value);
  if (result.ok && result.msg.type === 'join' && result.msg.protocol !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: {
        code: 'protocol-version',
        message: `protocol ${result.msg.protocol} is not supported; this server speaks ${PROTOCOL_VERSION}`,
        field: 'protocol',
        ref: 'join',
      },
    };
  }
  return result;
}

/** Parses a server -> client frame. No size limit: presence lists legitimately grow with the crew. */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  const decoded = decode(text);
  if (!decoded.ok) return decoded;
  return validateMessage(serverMessageSchema, SERVER_TYPES, decoded.msg);
}

/** JSON Schemas of both directions, as printed into docs/signalling.md. */
export function signallingJsonSchemas(): { clientMessage: unknown; serverMessage: unknown } {
  return {
    clientMessage: z.toJSONSchema(clientMessageSchema, { io: 'input' }),
    serverMessage: z.toJSONSchema(serverMessageSchema, { io: 'output' }),
  };
}
