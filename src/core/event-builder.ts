/**
 * Building this server's own events: lays a template out in the room version's PDU format, then
 * hashes and signs it. The result is what gets persisted and sent over federation.
 */
import { randomBytes } from 'node:crypto';
import { toRoomEvent } from './event-format.js';
import { hashAndSignEvent } from './event-signing.js';
import type { JsonObject } from './json.js';
import type { EventReference, Pdu, RoomEvent } from './pdu.js';
import type { SigningKey } from './signing.js';
import type { RoomVersion } from '../rooms/versions.js';

export interface EventTemplate {
  type: string;
  stateKey?: string;
  sender: string;
  content: JsonObject;
  /** Required except for the create event of a room version that derives the room ID from it. */
  roomId?: string;
  prevEvents: string[];
  authEvents: string[];
  depth: number;
  originServerTs: number;
  /** For `m.room.redaction`: placed wherever the room version keeps it. */
  redacts?: string;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A locally unique opaque ID part; 24 alphanumerics carry ~142 bits, so collisions are not a concern. */
function randomOpaqueId(): string {
  let s = '';
  for (const b of randomBytes(24)) s += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return s;
}

export function buildEvent(
  t: EventTemplate,
  version: RoomVersion,
  serverName: string,
  key: SigningKey,
  refHashes?: (eventId: string) => string | undefined,
): { pdu: Pdu; event: RoomEvent } {
  const derivedRoomId = version.roomIdFromCreateEvent && t.type === 'm.room.create';
  if (!derivedRoomId && t.roomId === undefined) throw new Error(`buildEvent: ${t.type} event needs a roomId`);

  const ref = (id: string): EventReference => {
    if (!version.eventRefsWithHashes) return id;
    const sha256 = refHashes?.(id);
    return [id, sha256 === undefined ? {} : { sha256 }];
  };

  const content: JsonObject = { ...t.content };
  const unsignedPdu: Pdu = {
    type: t.type,
    sender: t.sender,
    content,
    prev_events: t.prevEvents.map(ref),
    auth_events: t.authEvents.map(ref),
    depth: t.depth,
    origin_server_ts: t.originServerTs,
    hashes: { sha256: '' },
    signatures: {},
  };
  if (!derivedRoomId) unsignedPdu.room_id = t.roomId;
  if (t.stateKey !== undefined) unsignedPdu.state_key = t.stateKey;
  if (t.redacts !== undefined) {
    if (version.redactsInContent) content.redacts = t.redacts;
    else unsignedPdu.redacts = t.redacts;
  }
  if (version.eventIdFormat === 'server-assigned') unsignedPdu.event_id = `$${randomOpaqueId()}:${serverName}`;

  const pdu = hashAndSignEvent(unsignedPdu, serverName, key, version);
  return { pdu, event: toRoomEvent(pdu, version) };
}
