import type { JsonObject } from './json.js';

/**
 * A PDU as it travels between servers. One shape covers every room version; which optional
 * fields must or must not be present is decided by the room version's event format
 * (see src/rooms/versions.ts and src/core/event-format.ts).
 *
 * Room versions 1 and 2 reference other events as `[event_id, {sha256}]` pairs and carry an
 * explicit `event_id`; later versions reference plain event IDs that are derived from the
 * reference hash.
 */
export type EventReference = string | [string, { sha256?: string }];

export interface Pdu {
  type: string;
  /** Absent only on the v12 `m.room.create` event, whose room ID is derived from its hash. */
  room_id?: string;
  sender: string;
  origin_server_ts: number;
  content: JsonObject;
  state_key?: string;
  prev_events: EventReference[];
  auth_events: EventReference[];
  depth: number;
  hashes: { sha256: string; [alg: string]: string };
  signatures: Record<string, Record<string, string>>;
  unsigned?: JsonObject;
  /** Top-level in room versions 1–10; inside `content` from v11 on. */
  redacts?: string;
  /** Only in room versions 1 and 2. */
  event_id?: string;
  /** Legacy fields some servers still send; kept for hashing, ignored otherwise. */
  origin?: string;
  [extra: string]: unknown;
}

/**
 * An event as the rest of Comet sees it: the wire PDU plus the values every rule needs,
 * normalised once so that auth rules and state resolution never look at version details.
 */
export interface RoomEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | undefined;
  readonly sender: string;
  readonly content: JsonObject;
  readonly originServerTs: number;
  readonly depth: number;
  readonly prevEventIds: readonly string[];
  readonly authEventIds: readonly string[];
  /** The event a redaction redacts, wherever the room version keeps it. */
  readonly redacts: string | undefined;
  readonly pdu: Pdu;
}

/** Key of a state entry: `type` and `state_key` joined by a NUL, which neither may contain. */
export type StateKey = string;

export function stateKeyOf(type: string, stateKey: string): StateKey {
  return `${type}\u0000${stateKey}`;
}

const memberKeys = new Map<string, StateKey>();
const MAX_MEMBER_KEYS = 100_000;

/**
 * `stateKeyOf('m.room.member', userId)`, the same string each time: a sync looks up the member
 * events of every sender for every woken member, and a string met before has its hash already.
 */
export function memberStateKey(userId: string): StateKey {
  let key = memberKeys.get(userId);
  if (key === undefined) {
    if (memberKeys.size >= MAX_MEMBER_KEYS) memberKeys.clear();
    key = stateKeyOf('m.room.member', userId);
    memberKeys.set(userId, key);
  }
  return key;
}

export function splitStateKey(key: StateKey): [type: string, stateKey: string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** A room state: (type, state_key) → event ID. */
export type StateMap = ReadonlyMap<StateKey, string>;

/** The domain part of a user, room or event ID (`@alice:example.org` → `example.org`). */
export function domainOf(id: string): string {
  const i = id.indexOf(':');
  return i < 0 ? '' : id.slice(i + 1);
}
