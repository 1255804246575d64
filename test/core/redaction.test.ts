import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject } from '../../src/core/json.js';
import type { Pdu } from '../../src/core/pdu.js';
import { redactContent, redactPdu } from '../../src/core/redaction.js';
import { type RoomVersion, getRoomVersion, knownRoomVersions } from '../../src/rooms/versions.js';

function v(id: string): RoomVersion {
  const r = getRoomVersion(id);
  if (r === undefined) throw new Error(`unknown version ${id}`);
  return r;
}

// Content "full of keys" for each event type the redaction algorithms mention, plus a message.
const FULL_CONTENT: Record<string, JsonObject> = {
  'm.room.create': {
    creator: '@a:x',
    room_version: '9',
    'm.federate': false,
    predecessor: { room_id: '!old:x', event_id: '$e' },
    additional_creators: ['@b:y'],
    type: 'm.space',
  },
  'm.room.member': {
    membership: 'join',
    displayname: 'A',
    avatar_url: 'mxc://x/y',
    join_authorised_via_users_server: '@admin:x',
    third_party_invite: { display_name: 'a@example.org', signed: { mxid: '@a:x', token: 't', signatures: {} } },
    reason: 'because',
    is_direct: true,
  },
  'm.room.join_rules': { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!s:x' }], extra: 1 },
  'm.room.power_levels': {
    ban: 50,
    events: { 'm.room.name': 50 },
    events_default: 0,
    invite: 0,
    kick: 50,
    notifications: { room: 50 },
    redact: 50,
    state_default: 50,
    users: { '@a:x': 100 },
    users_default: 0,
    historical: 100,
  },
  'm.room.history_visibility': { history_visibility: 'shared', extra: true },
  'm.room.aliases': { aliases: ['#a:x'], extra: 'x' },
  'm.room.redaction': { redacts: '$target', reason: 'spam' },
  'm.room.message': { msgtype: 'm.text', body: 'hello' },
};

// What survives, transcribed from the spec: fragments v1-redactions (rooms 1–5), v6-redactions
// (6–7), the v8 page (8), v9-redactions (9–10) and v11-redactions (11–12).
const PL = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];
const KEPT_CONTENT: Record<string, Record<string, string[]>> = {
  v1: {
    'm.room.member': ['membership'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule'],
    'm.room.power_levels': PL,
    'm.room.aliases': ['aliases'],
    'm.room.history_visibility': ['history_visibility'],
  },
  v6: {
    'm.room.member': ['membership'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule'],
    'm.room.power_levels': PL,
    'm.room.history_visibility': ['history_visibility'],
  },
  v8: {
    'm.room.member': ['membership'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule', 'allow'],
    'm.room.power_levels': PL,
    'm.room.history_visibility': ['history_visibility'],
  },
  v9: {
    'm.room.member': ['membership', 'join_authorised_via_users_server'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule', 'allow'],
    'm.room.power_levels': PL,
    'm.room.history_visibility': ['history_visibility'],
  },
  v11: {
    'm.room.member': ['membership', 'join_authorised_via_users_server'],
    'm.room.create': Object.keys(FULL_CONTENT['m.room.create']),
    'm.room.join_rules': ['join_rule', 'allow'],
    'm.room.power_levels': [...PL, 'invite'],
    'm.room.history_visibility': ['history_visibility'],
    'm.room.redaction': ['redacts'],
  },
};
const ALGORITHM_FOR_VERSION: Record<string, string> = {
  '1': 'v1',
  '2': 'v1',
  '3': 'v1',
  '4': 'v1',
  '5': 'v1',
  '6': 'v6',
  '7': 'v6',
  '8': 'v8',
  '9': 'v9',
  '10': 'v9',
  '11': 'v11',
  '12': 'v11',
};

const KEPT_TOP_V1 = [
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
];
const KEPT_TOP_V11 = KEPT_TOP_V1.filter((k) => !['origin', 'membership', 'prev_state'].includes(k));

function fullEvent(type: string): Record<string, unknown> {
  return {
    event_id: '$ev:x',
    type,
    room_id: '!r:x',
    sender: '@a:x',
    state_key: type === 'm.room.message' || type === 'm.room.redaction' ? undefined : '',
    content: structuredClone(FULL_CONTENT[type]),
    hashes: { sha256: 'abc' },
    signatures: { x: { 'ed25519:1': 'sig' } },
    depth: 7,
    prev_events: ['$p'],
    prev_state: [],
    auth_events: ['$a'],
    origin: 'x',
    origin_server_ts: 1234,
    membership: 'join',
    unsigned: { age: 5 },
    redacts: '$target',
    user_id: '@a:x',
    age_ts: 99,
    random_top_level: { nested: [1, 2] },
  };
}

function pick(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in obj && obj[k] !== undefined) out[k] = obj[k];
  return out;
}

for (const version of knownRoomVersions()) {
  const algo = ALGORITHM_FOR_VERSION[version.id];
  test(`room version ${version.id}: events are redacted with the ${algo} algorithm`, () => {
    assert.equal(version.redaction, algo);
    const topKeys = algo === 'v11' ? KEPT_TOP_V11 : KEPT_TOP_V1;
    for (const type of Object.keys(FULL_CONTENT)) {
      const ev = fullEvent(type);
      if (ev.state_key === undefined) delete ev.state_key;
      const before = structuredClone(ev);
      const expected = pick(ev, topKeys);
      const keptContent = KEPT_CONTENT[algo][type] ?? [];
      const content = pick(FULL_CONTENT[type], keptContent);
      if (algo === 'v11' && type === 'm.room.member') {
        content.third_party_invite = { signed: { mxid: '@a:x', token: 't', signatures: {} } };
      }
      expected.content = content;
      assert.deepEqual(redactPdu(ev as unknown as Pdu, version), expected, `${type} in v${version.id}`);
      assert.deepEqual(ev, before, 'the input is left untouched');
    }
  });
}

test('v1 vs v11 on literal events', () => {
  const pl = fullEvent('m.room.power_levels') as unknown as Pdu;
  assert.deepEqual(redactPdu(pl, v('1')).content, {
    ban: 50,
    events: { 'm.room.name': 50 },
    events_default: 0,
    kick: 50,
    redact: 50,
    state_default: 50,
    users: { '@a:x': 100 },
    users_default: 0,
  });
  assert.equal(redactPdu(pl, v('11')).content.invite, 0);
  assert.equal(redactPdu(pl, v('10')).content.invite, undefined);

  const redaction = fullEvent('m.room.redaction') as unknown as Pdu;
  // Before v11 a redacted redaction loses its target (top-level `redacts` is not protected).
  assert.deepEqual(redactPdu(redaction, v('10')).content, {});
  assert.equal(redactPdu(redaction, v('10')).redacts, undefined);
  assert.deepEqual(redactPdu(redaction, v('11')).content, { redacts: '$target' });

  const aliases = fullEvent('m.room.aliases') as unknown as Pdu;
  assert.deepEqual(redactPdu(aliases, v('5')).content, { aliases: ['#a:x'] });
  assert.deepEqual(redactPdu(aliases, v('6')).content, {});

  const create = fullEvent('m.room.create') as unknown as Pdu;
  assert.deepEqual(redactPdu(create, v('10')).content, { creator: '@a:x' });
  assert.deepEqual(redactPdu(create, v('12')).content, FULL_CONTENT['m.room.create']);
  assert.equal(redactPdu(create, v('10')).origin, 'x');
  assert.equal(redactPdu(create, v('11')).origin, undefined);
});

test('v11 member third_party_invite: only `signed` survives, and only when present', () => {
  const v11 = v('11');
  assert.deepEqual(
    redactContent('m.room.member', { membership: 'invite', third_party_invite: { display_name: 'x', signed: { token: 't' } } }, v11),
    { membership: 'invite', third_party_invite: { signed: { token: 't' } } },
  );
  assert.deepEqual(redactContent('m.room.member', { membership: 'invite', third_party_invite: { display_name: 'x' } }, v11), {
    membership: 'invite',
  });
  assert.deepEqual(redactContent('m.room.member', { membership: 'invite', third_party_invite: 'junk' }, v11), {
    membership: 'invite',
  });
  assert.deepEqual(
    redactContent('m.room.member', { membership: 'invite', third_party_invite: { signed: { token: 't' } } }, v('10')),
    { membership: 'invite' },
  );
});

test('redacted output shares no objects with the input', () => {
  const ev = fullEvent('m.room.power_levels') as unknown as Pdu;
  const out = redactPdu(ev, v('9'));
  (out.content.users as JsonObject)['@evil:x'] = 100;
  out.signatures.x['ed25519:2'] = 'y';
  assert.equal((ev.content.users as JsonObject)['@evil:x'], undefined);
  assert.equal(ev.signatures.x['ed25519:2'], undefined);
});

test('client-format events and junk content are handled', () => {
  const clientEvent = {
    event_id: '$e',
    type: 'm.room.member',
    room_id: '!r:x',
    sender: '@a:x',
    state_key: '@a:x',
    origin_server_ts: 1,
    content: { membership: 'join', displayname: 'A' },
    unsigned: { age: 1, redacted_because: {} },
  };
  assert.deepEqual(redactPdu(clientEvent as unknown as Pdu, v('12')), {
    event_id: '$e',
    type: 'm.room.member',
    room_id: '!r:x',
    sender: '@a:x',
    state_key: '@a:x',
    origin_server_ts: 1,
    content: { membership: 'join' },
  });
  assert.deepEqual(redactPdu({ type: 'm.room.member', content: 'nope' } as unknown as Pdu, v('1')), {
    type: 'm.room.member',
    content: {},
  });
  assert.deepEqual(redactPdu({ content: { a: 1 } } as unknown as Pdu, v('1')), { content: {} });
});
