/**
 * The redaction algorithm ("Redactions" in each room version's spec page): what survives when an
 * event is redacted. The same stripped form is what gets signed and what the reference hash covers,
 * so these lists must match the spec exactly — one extra or missing key changes every event ID.
 */
import { type JsonObject, type JsonValue, isJsonObject } from './json.js';
import type { Pdu } from './pdu.js';
import type { RedactionRules, RoomVersion } from '../rooms/versions.js';

/** Top-level keys kept by the v1–v10 algorithms (fragments v1/v6/v9 and the v8 page). */
const TOP_LEVEL_V1: ReadonlySet<string> = new Set([
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'prev_state',
  'auth_events',
  'origin',
  'origin_server_ts',
  'membership',
]);

/** v11 stops protecting `origin`, `membership` and `prev_state`. */
const TOP_LEVEL_V11: ReadonlySet<string> = new Set(
  [...TOP_LEVEL_V1].filter((k) => k !== 'origin' && k !== 'membership' && k !== 'prev_state'),
);

/** `'*'` keeps the whole content (v11 `m.room.create`). */
type ContentRule = ReadonlySet<string> | '*';

const POWER_LEVEL_KEYS = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];

function rules(entries: Record<string, string[] | '*'>): ReadonlyMap<string, ContentRule> {
  return new Map(Object.entries(entries).map(([type, keys]) => [type, keys === '*' ? '*' : new Set(keys)]));
}

const CONTENT_V1 = rules({
  'm.room.member': ['membership'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule'],
  'm.room.power_levels': POWER_LEVEL_KEYS,
  'm.room.aliases': ['aliases'],
  'm.room.history_visibility': ['history_visibility'],
});

// v6 drops the m.room.aliases special case entirely.
const CONTENT_V6 = rules({
  'm.room.member': ['membership'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule'],
  'm.room.power_levels': POWER_LEVEL_KEYS,
  'm.room.history_visibility': ['history_visibility'],
});

const CONTENT_V8 = rules({
  'm.room.member': ['membership'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.power_levels': POWER_LEVEL_KEYS,
  'm.room.history_visibility': ['history_visibility'],
});

const CONTENT_V9 = rules({
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.power_levels': POWER_LEVEL_KEYS,
  'm.room.history_visibility': ['history_visibility'],
});

// v11 additionally keeps `third_party_invite.signed` on members; see redactContent.
const CONTENT_V11 = rules({
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
  'm.room.create': '*',
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.power_levels': [...POWER_LEVEL_KEYS, 'invite'],
  'm.room.history_visibility': ['history_visibility'],
  'm.room.redaction': ['redacts'],
});

const ALGORITHMS: Record<RedactionRules, { topLevel: ReadonlySet<string>; content: ReadonlyMap<string, ContentRule> }> = {
  v1: { topLevel: TOP_LEVEL_V1, content: CONTENT_V1 },
  v6: { topLevel: TOP_LEVEL_V1, content: CONTENT_V6 },
  v8: { topLevel: TOP_LEVEL_V1, content: CONTENT_V8 },
  v9: { topLevel: TOP_LEVEL_V1, content: CONTENT_V9 },
  v11: { topLevel: TOP_LEVEL_V11, content: CONTENT_V11 },
};

function cloneJson(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(cloneJson);
  if (isJsonObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x);
    return out;
  }
  return v;
}

/** The content an event of `type` keeps after redaction. Returns a fresh object (no shared references). */
export function redactContent(type: string, content: JsonObject, version: RoomVersion): JsonObject {
  const algo = ALGORITHMS[version.redaction];
  const rule = algo.content.get(type);
  const out: JsonObject = {};
  if (rule === undefined || !isJsonObject(content)) return out;
  for (const [k, v] of Object.entries(content)) {
    if (rule === '*' || rule.has(k)) out[k] = cloneJson(v);
  }
  // v11: the member event keeps only the `signed` part of `third_party_invite`, which the auth
  // rules need to re-check the invite after redaction.
  if (version.redaction === 'v11' && type === 'm.room.member') {
    const tpi = content.third_party_invite;
    if (isJsonObject(tpi) && Object.hasOwn(tpi, 'signed')) out.third_party_invite = { signed: cloneJson(tpi.signed) };
  }
  return out;
}

/**
 * Strips `pdu` as the version's redaction algorithm says. Also accepts client-format events (any
 * plain object with `type` and `content`): keys absent from the input stay absent, and a missing or
 * malformed `content` becomes `{}`. The input is not modified.
 */
export function redactPdu(pdu: Pdu, version: RoomVersion): Pdu {
  const algo = ALGORITHMS[version.redaction];
  const src = pdu as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (!algo.topLevel.has(k)) continue;
    out[k] = k === 'content' ? v : cloneJson(v as JsonValue);
  }
  const content = isJsonObject(src.content) ? (src.content as JsonObject) : {};
  out.content = redactContent(typeof src.type === 'string' ? src.type : '', content, version);
  return out as unknown as Pdu;
}
