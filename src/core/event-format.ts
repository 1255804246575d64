/**
 * PDU format validation (the event format of each room version, `data/api/server-server/definitions/
 * pdu_v*.yaml`, plus the client-server "Size limits") and conversion to the normalised RoomEvent.
 *
 * validatePdu is step 1 of the "checks performed on receipt of a PDU": an event failing it is
 * dropped, so it only checks shape. Everything that depends on other events (auth rules, the v12
 * rule that a create event must not carry a `room_id`) is left to src/core/auth/.
 */
import { canonicalJson } from './canonical-json.js';
import { anyEncodingOf } from './pdu-encoding.js';
import { computeEventId, roomIdFromCreateEvent } from './event-hashes.js';
import { isJsonObject } from './json.js';
import type { EventReference, Pdu, RoomEvent } from './pdu.js';
import type { RoomVersion } from '../rooms/versions.js';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export const MAX_PDU_BYTES = 65536;
export const MAX_ID_BYTES = 255;
/** The schema's limits on references ("must contain less than or equal to …"). */
export const MAX_PREV_EVENTS = 20;
export const MAX_AUTH_EVENTS = 10;

/** Nesting deeper than this cannot fit in 64 KiB of meaningful JSON; refusing it early keeps the encoders off deep recursion. */
const MAX_NESTING = 512;
/** Generous: `unsigned` (not size-limited) may carry stripped room state. */
const MAX_JSON_VALUES = 1 << 20;

class Invalid extends Error {}

function fail(reason: string): never {
  throw new Invalid(reason);
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Sorted-key JSON for room versions that predate strict canonical JSON: floats and big integers
 * are tolerated (encoded as JavaScript prints them), anything JSON cannot carry is refused.
 */
function looseCanonicalJson(v: unknown, depth = 0): string {
  if (depth > MAX_NESTING) fail('JSON nested too deeply');
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail('number is not finite');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return '[' + v.map((x) => looseCanonicalJson(x, depth + 1)).join(',') + ']';
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + looseCanonicalJson(v[k], depth + 1)).join(',') + '}';
  }
  fail(`value of type ${typeof v} is not JSON`);
}

/**
 * Bounds the shape of untrusted input before anything else recurses over it: nesting depth (so
 * recursion stays shallow), and the number of values (each costs at least one byte of JSON, so a
 * real event has far fewer). The value budget also stops cyclic or heavily shared objects, which
 * JSON.parse never produces but in-process callers could.
 */
function checkShape(root: unknown): void {
  let budget = MAX_JSON_VALUES;
  const walk = (x: unknown, depth: number): void => {
    if (--budget < 0) fail('event has too many JSON values');
    if (typeof x !== 'object' || x === null) return;
    if (depth >= MAX_NESTING) fail('JSON nested too deeply');
    if (Array.isArray(x)) {
      for (const child of x) walk(child, depth + 1);
    } else {
      for (const k in x) if (Object.hasOwn(x, k)) walk((x as Record<string, unknown>)[k], depth + 1);
    }
  };
  walk(root, 0);
}

function checkId(obj: Record<string, unknown>, field: string, sigil: string, needsDomain: boolean): string {
  const v = obj[field];
  if (typeof v !== 'string') fail(`${field} must be a string`);
  if (utf8Length(v) > MAX_ID_BYTES) fail(`${field} is longer than ${MAX_ID_BYTES} bytes`);
  if (!v.startsWith(sigil)) fail(`${field} must start with '${sigil}'`);
  if (needsDomain) {
    const colon = v.indexOf(':');
    if (colon < 0 || colon === v.length - 1) fail(`${field} must have a server name after ':'`);
  }
  return v;
}

function checkRefs(obj: Record<string, unknown>, field: string, max: number, version: RoomVersion): void {
  const refs = obj[field];
  if (!Array.isArray(refs)) fail(`${field} must be an array`);
  if (refs.length > max) fail(`${field} has ${refs.length} entries, more than ${max}`);
  refs.forEach((r, i) => {
    if (version.eventRefsWithHashes) {
      if (!Array.isArray(r) || r.length !== 2) fail(`${field}[${i}] must be an [event_id, hashes] pair`);
      if (typeof r[0] !== 'string' || !r[0].startsWith('$')) fail(`${field}[${i}][0] must be an event ID`);
      if (!isPlainObject(r[1])) fail(`${field}[${i}][1] must be an object of hashes`);
      if (r[1].sha256 !== undefined && typeof r[1].sha256 !== 'string') fail(`${field}[${i}][1].sha256 must be a string`);
    } else if (typeof r !== 'string' || !r.startsWith('$')) {
      fail(`${field}[${i}] must be an event ID string`);
    }
  });
}

function checkPdu(raw: unknown, version: RoomVersion): Pdu {
  if (!isPlainObject(raw)) fail('event must be a JSON object');
  checkShape(raw);

  // `unsigned` is not part of the event proper: servers rewrite it in transit, so it counts
  // neither towards the size limit nor towards strictness of the signed JSON.
  const { unsigned, ...signedPart } = raw;
  if (unsigned !== undefined && !isPlainObject(unsigned)) fail('unsigned must be an object');
  // A PDU this process built was canonically encoded while it was hashed and signed; its size is known.
  let size = unsigned === undefined ? anyEncodingOf(raw as unknown as Pdu)?.size : undefined;
  if (size === undefined) {
    let encoded: string;
    if (version.strictCanonicalJson) {
      try {
        encoded = canonicalJson(signedPart);
      } catch (e) {
        fail(`not canonical JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else {
      encoded = looseCanonicalJson(signedPart);
    }
    if (unsigned !== undefined) looseCanonicalJson(unsigned);
    size = utf8Length(encoded);
  }
  if (size > MAX_PDU_BYTES) fail(`event is ${size} bytes, more than ${MAX_PDU_BYTES}`);

  if (typeof raw.type !== 'string') fail('type must be a string');
  if (utf8Length(raw.type) > MAX_ID_BYTES) fail(`type is longer than ${MAX_ID_BYTES} bytes`);
  checkId(raw, 'sender', '@', true);

  const derivedRoomId = version.roomIdFromCreateEvent && raw.type === 'm.room.create';
  if (raw.room_id !== undefined || !derivedRoomId) checkId(raw, 'room_id', '!', false);

  if (version.eventIdFormat === 'server-assigned') checkId(raw, 'event_id', '$', true);
  else if (raw.event_id !== undefined && typeof raw.event_id !== 'string') fail('event_id must be a string');

  if (raw.state_key !== undefined) {
    if (typeof raw.state_key !== 'string') fail('state_key must be a string');
    if (utf8Length(raw.state_key) > MAX_ID_BYTES) fail(`state_key is longer than ${MAX_ID_BYTES} bytes`);
  }

  if (!isPlainObject(raw.content)) fail('content must be an object');

  const ts = raw.origin_server_ts;
  if (typeof ts !== 'number' || !Number.isInteger(ts)) fail('origin_server_ts must be an integer');
  const depth = raw.depth;
  if (typeof depth !== 'number' || !Number.isInteger(depth)) fail('depth must be an integer');
  if (depth < 0) fail('depth must not be negative');

  if (!isPlainObject(raw.hashes)) fail('hashes must be an object');
  if (typeof raw.hashes.sha256 !== 'string') fail('hashes.sha256 must be a string');

  if (!isPlainObject(raw.signatures)) fail('signatures must be an object');
  for (const [server, sigs] of Object.entries(raw.signatures)) {
    if (!isPlainObject(sigs)) fail(`signatures.${server} must be an object`);
    for (const [keyId, sig] of Object.entries(sigs)) {
      if (typeof sig !== 'string') fail(`signatures.${server}.${keyId} must be a string`);
    }
  }

  checkRefs(raw, 'prev_events', MAX_PREV_EVENTS, version);
  checkRefs(raw, 'auth_events', MAX_AUTH_EVENTS, version);

  // From v11 on `redacts` lives in content; a top-level one is ignored (and not even protected by redaction).
  if (!version.redactsInContent && raw.redacts !== undefined && typeof raw.redacts !== 'string') {
    fail('redacts must be a string');
  }
  return raw as unknown as Pdu;
}

/** The size the PDU size limit measures: UTF-8 bytes of the canonical JSON without `unsigned`. Throws if not encodable. */
export function pduSize(pdu: Pdu): number {
  const built = pdu.unsigned === undefined ? anyEncodingOf(pdu) : undefined;
  if (built !== undefined) return built.size;
  const { unsigned: _u, ...signedPart } = pdu as unknown as Record<string, unknown>;
  return utf8Length(canonicalJson(signedPart));
}

/** Checks `raw` against the room version's PDU format. Never throws. */
export function validatePdu(raw: unknown, version: RoomVersion): ValidationResult<Pdu> {
  try {
    return { ok: true, value: checkPdu(raw, version) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.message };
    // Anything else (a stack overflow, a throwing getter on a non-JSON input) still means "invalid".
    return { ok: false, reason: `malformed event: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function refId(r: EventReference): string {
  return typeof r === 'string' ? r : r[0];
}

/**
 * Normalises a validated PDU. The event ID and (for v12 create events) room ID are computed here,
 * unless the caller knows them: `redactedBytes` (see redactedEventBytes) saves encoding the event
 * again, `eventId` (an event read back from our own store) saves hashing it at all.
 */
export function toRoomEvent(pdu: Pdu, version: RoomVersion, known: { redactedBytes?: Uint8Array; eventId?: string } = {}): RoomEvent {
  const derivedRoomId = version.roomIdFromCreateEvent && pdu.type === 'm.room.create';
  let redacts: string | undefined;
  if (pdu.type === 'm.room.redaction') {
    const r = version.redactsInContent ? pdu.content.redacts : pdu.redacts;
    redacts = typeof r === 'string' ? r : undefined;
  }
  return {
    eventId: known.eventId ?? computeEventId(pdu, version, known.redactedBytes),
    roomId: derivedRoomId ? roomIdFromCreateEvent(pdu, version) : (pdu.room_id ?? ''),
    type: pdu.type,
    stateKey: pdu.state_key,
    sender: pdu.sender,
    content: isJsonObject(pdu.content) ? pdu.content : {},
    originServerTs: pdu.origin_server_ts,
    depth: pdu.depth,
    prevEventIds: pdu.prev_events.map(refId),
    authEventIds: pdu.auth_events.map(refId),
    redacts,
    pdu,
  };
}
