import type { JsonObject } from '../core/json.js';
import type { RoomEvent } from '../core/pdu.js';
import { redactContent } from '../core/redaction.js';
import type { RoomVersion } from './versions.js';

/**
 * The client-server event format (`ClientEvent` / `ClientEventWithoutRoomID`). Every endpoint
 * that hands events to clients (event fetch, state, /sync, /messages, /context) goes through
 * here so redaction, `unsigned` and field order are the same everywhere.
 */

export interface ClientEventUnsigned {
  age?: number;
  transaction_id?: string;
  prev_content?: JsonObject;
  prev_sender?: string;
  replaces_state?: string;
  redacted_because?: ClientEvent;
  membership?: string;
  [key: string]: unknown;
}

export interface ClientEvent {
  event_id: string;
  room_id?: string;
  type: string;
  state_key?: string;
  sender: string;
  content: JsonObject;
  origin_server_ts: number;
  /** Top-level copy of the redacted event ID on redactions, as clients of every version expect it there. */
  redacts?: string;
  unsigned: ClientEventUnsigned;
}

export interface ClientEventOptions {
  version: RoomVersion;
  /** Current time, for `unsigned.age`. */
  now: number;
  /** Drop `room_id` (sync timelines, where it is implied). */
  omitRoomId?: boolean;
  /** Set only when the viewer is the device that sent the event. */
  transactionId?: string;
  /** The state event this one replaced, if any. `prevContent` is given only if the viewer may see it. */
  replacesState?: string;
  prevContent?: JsonObject;
  prevSender?: string;
  /** The redaction event, if this event has been redacted: the content is then stripped. */
  redactedBecause?: RoomEvent;
  /** The viewer's membership at the event (`unsigned.membership`). */
  viewerMembership?: string;
}

export function toClientEvent(ev: RoomEvent, opts: ClientEventOptions): ClientEvent {
  const unsigned: ClientEventUnsigned = { age: Math.max(0, opts.now - ev.originServerTs) };
  if (opts.transactionId !== undefined) unsigned.transaction_id = opts.transactionId;
  if (opts.replacesState !== undefined) unsigned.replaces_state = opts.replacesState;
  if (opts.prevContent !== undefined) unsigned.prev_content = opts.prevContent;
  if (opts.prevSender !== undefined) unsigned.prev_sender = opts.prevSender;
  if (opts.viewerMembership !== undefined) unsigned.membership = opts.viewerMembership;

  let content = ev.content;
  if (opts.redactedBecause !== undefined) {
    content = redactContent(ev.type, ev.content, opts.version);
    unsigned.redacted_because = toClientEvent(opts.redactedBecause, {
      version: opts.version,
      now: opts.now,
      omitRoomId: opts.omitRoomId,
    });
  }

  const out: ClientEvent = {
    event_id: ev.eventId,
    type: ev.type,
    sender: ev.sender,
    content,
    origin_server_ts: ev.originServerTs,
    unsigned,
  };
  if (!opts.omitRoomId) out.room_id = ev.roomId;
  if (ev.stateKey !== undefined) out.state_key = ev.stateKey;
  if (ev.type === 'm.room.redaction' && ev.redacts !== undefined) out.redacts = ev.redacts;
  return out;
}

/** Stripped state (invite/knock room state for the invitee): only type, state_key, sender, content. */
export interface StrippedStateEvent {
  type: string;
  state_key: string;
  sender: string;
  content: JsonObject;
}

export function toStrippedState(ev: RoomEvent): StrippedStateEvent {
  return { type: ev.type, state_key: ev.stateKey ?? '', sender: ev.sender, content: ev.content };
}

/** The state types an invitee or knocker is shown (client-server spec, "Stripped state"). */
export const STRIPPED_STATE_TYPES: readonly string[] = [
  'm.room.create',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.encryption',
];
