import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CreateRoomRequest, planCreateRoom } from '../../src/rooms/create-room-plan.js';
import { getRoomVersion } from '../../src/rooms/versions.js';

const V12 = getRoomVersion('12')!;
const V10 = getRoomVersion('10')!;
const ALICE = '@alice:hs';

function plan(request: CreateRoomRequest, version = V12) {
  const r = planCreateRoom({ request, creator: ALICE, serverName: 'hs', version, displayname: 'Alice' });
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.plan;
}

function types(p: ReturnType<typeof plan>): string[] {
  return p.events.map((e) => `${e.type}|${e.stateKey}`);
}

test('events come in the spec order: create, join, power levels, alias, preset, initial_state, name/topic, invites', () => {
  const p = plan({
    preset: 'private_chat',
    room_alias_name: 'pub',
    name: 'N',
    topic: 'T',
    invite: ['@bob:hs'],
    initial_state: [{ type: 'm.room.encryption', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
  });
  assert.deepEqual(types(p), [
    'm.room.create|',
    `m.room.member|${ALICE}`,
    'm.room.power_levels|',
    'm.room.canonical_alias|',
    'm.room.join_rules|',
    'm.room.history_visibility|',
    'm.room.guest_access|',
    'm.room.encryption|',
    'm.room.name|',
    'm.room.topic|',
    'm.room.member|@bob:hs',
  ]);
  assert.equal(p.alias, '#pub:hs');
  assert.deepEqual(p.events[3].content, { alias: '#pub:hs' });
  assert.deepEqual(p.events[1].content, { membership: 'join', displayname: 'Alice' });
  assert.deepEqual(p.events[9].content, {
    topic: 'T',
    'm.topic': { 'm.text': [{ body: 'T', mimetype: 'text/plain' }] },
  });
  assert.equal(p.publish, false);
});

test('v12: no creator key, creator absent from power levels, tombstone above state_default', () => {
  const p = plan({ creation_content: { creator: '@mallory:hs', 'm.federate': false } });
  const create = p.events[0].content;
  assert.equal(create.creator, undefined);
  assert.equal(create.room_version, '12');
  assert.equal(create['m.federate'], false);
  const pl = p.events[2].content as Record<string, unknown>;
  assert.deepEqual(pl.users, {});
  const events = pl.events as Record<string, number>;
  assert.ok(events['m.room.tombstone'] > (pl.state_default as number));
});

test('v10: creator in create content and power levels with 100', () => {
  const p = plan({ preset: 'public_chat' }, V10);
  assert.equal(p.events[0].content.creator, ALICE);
  assert.equal(p.events[0].content.room_version, '10');
  assert.deepEqual((p.events[2].content as Record<string, unknown>).users, { [ALICE]: 100 });
  assert.deepEqual(p.events[3].content, { join_rule: 'public' });
  assert.deepEqual(p.events[5].content, { guest_access: 'forbidden' });
});

test('trusted_private_chat: invitees become additional creators in v12 and get 100 before', () => {
  const p12 = plan({
    preset: 'trusted_private_chat',
    invite: ['@bob:hs', '@carol:hs'],
    creation_content: { additional_creators: ['@bob:hs', '@dave:hs'] },
  });
  assert.deepEqual(p12.events[0].content.additional_creators, ['@bob:hs', '@dave:hs', '@carol:hs']);
  assert.deepEqual((p12.events[2].content as Record<string, unknown>).users, {});
  const p10 = plan({ preset: 'trusted_private_chat', invite: ['@bob:hs'] }, V10);
  assert.deepEqual((p10.events[2].content as Record<string, unknown>).users, { [ALICE]: 100, '@bob:hs': 100 });
  assert.equal(p10.events[0].content.additional_creators, undefined);
});

test('visibility picks the preset when none is given; public publishes', () => {
  const p = plan({ visibility: 'public' });
  assert.equal(p.publish, true);
  assert.ok(p.events.some((e) => e.type === 'm.room.join_rules' && e.content.join_rule === 'public'));
  const q = plan({});
  assert.ok(q.events.some((e) => e.type === 'm.room.join_rules' && e.content.join_rule === 'invite'));
});

test('initial_state overrides preset events; name and topic override initial_state', () => {
  const p = plan({
    preset: 'public_chat',
    name: 'From name',
    initial_state: [
      { type: 'm.room.history_visibility', content: { history_visibility: 'joined' } },
      { type: 'm.room.name', content: { name: 'From initial' } },
    ],
  });
  const hv = p.events.filter((e) => e.type === 'm.room.history_visibility');
  assert.deepEqual(hv.map((e) => e.content), [{ history_visibility: 'joined' }]);
  const names = p.events.filter((e) => e.type === 'm.room.name');
  assert.deepEqual(names.map((e) => e.content), [{ name: 'From name' }]);
});

test('power_level_content_override applies on top of the defaults', () => {
  const p = plan({ power_level_content_override: { events_default: 10, users: { '@bob:hs': 50 } } }, V10);
  const pl = p.events[2].content as Record<string, unknown>;
  assert.equal(pl.events_default, 10);
  assert.deepEqual(pl.users, { '@bob:hs': 50 });
  assert.equal(pl.state_default, 50);
});

test('is_direct marks invites; the creator is never invited', () => {
  const p = plan({ invite: ['@bob:hs', ALICE, '@bob:hs'], is_direct: true });
  const invites = p.events.filter((e) => e.type === 'm.room.member' && e.content.membership === 'invite');
  assert.deepEqual(
    invites.map((e) => [e.stateKey, e.content.is_direct]),
    [['@bob:hs', true]],
  );
});

test('bad requests are refused with the right error code', () => {
  const cases: Array<[CreateRoomRequest, string]> = [
    [{ room_alias_name: 'a:b' }, 'M_INVALID_PARAM'],
    [{ room_alias_name: '' }, 'M_INVALID_PARAM'],
    [{ initial_state: [{ type: 'm.room.create', content: {} }] }, 'M_INVALID_ROOM_STATE'],
    [{ power_level_content_override: { users: { [ALICE]: 100 } } }, 'M_INVALID_ROOM_STATE'],
    [{ creation_content: { additional_creators: 'x' } }, 'M_BAD_JSON'],
  ];
  for (const [request, code] of cases) {
    const r = planCreateRoom({ request, creator: ALICE, serverName: 'hs', version: V12 });
    assert.equal(r.ok, false, JSON.stringify(request));
    if (!r.ok) assert.equal(r.errcode, code);
  }
});
