import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authEventKeysFor, checkAuthEventsList } from '../../../src/core/auth/index.js';
import type { RoomEvent } from '../../../src/core/pdu.js';
import { ALICE, ALL_VERSIONS, BOB, CAROL, makeRoom, type RoomSetup, type TestRoom, version } from './fixtures.js';

const get = (r: TestRoom, type: string, stateKey = '') => {
  const ev = r.lookup(type, stateKey);
  if (!ev) throw new Error(`no ${type} ${stateKey} in test room`);
  return ev;
};

interface ListCase {
  version: string;
  name: string;
  setup?: RoomSetup;
  /** The event to check and the auth events available to the checker (by default, the room state). */
  event: (r: TestRoom) => RoomEvent | { event: RoomEvent; available: RoomEvent[] };
  rejected?: (r: TestRoom) => string[];
  allow: boolean;
  reason?: RegExp;
}

/** A message from Bob citing the given state entries. */
function message(cite: (r: TestRoom) => RoomEvent[]) {
  return (r: TestRoom) => r.event({ type: 'm.room.message', sender: BOB, content: {}, authEventIds: cite(r).map((e) => e.eventId) });
}
const basic = (r: TestRoom) => [get(r, 'm.room.create'), get(r, 'm.room.power_levels'), get(r, 'm.room.member', BOB)];
const basicV12 = (r: TestRoom) => [get(r, 'm.room.power_levels'), get(r, 'm.room.member', BOB)];
const bobJoined: RoomSetup = { members: [[BOB, 'join']] };

const cases: ListCase[] = [
  { version: '1', name: 'message citing create, power levels and sender membership', setup: bobJoined, event: message(basic), allow: true },
  { version: '12', name: 'message citing power levels and sender membership', setup: bobJoined, event: message(basicV12), allow: true },
  {
    version: '12',
    name: 'message citing the create event',
    setup: bobJoined,
    event: message(basic),
    allow: false,
    reason: /the create event must not be cited in room version 12/,
  },
  {
    version: '12',
    name: "the room's create event was rejected",
    setup: bobJoined,
    event: message(basicV12),
    rejected: (r) => [get(r, 'm.room.create').eventId],
    allow: false,
    reason: /room id: the create event .* was rejected/,
  },
  {
    version: '1',
    name: 'message citing the join rules',
    setup: bobJoined,
    event: message((r) => [...basic(r), get(r, 'm.room.join_rules')]),
    allow: false,
    reason: /unexpected entry .*m.room.join_rules/,
  },
  {
    version: '4',
    name: "message citing another user's membership",
    setup: { members: [[BOB, 'join'], [CAROL, 'join']] },
    event: message((r) => [...basic(r), get(r, 'm.room.member', CAROL)]),
    allow: false,
    reason: /unexpected entry .*@carol:c.example/,
  },
  {
    version: '2',
    name: 'two member events for the sender',
    setup: bobJoined,
    event: (r) => {
      const old = get(r, 'm.room.member', BOB);
      r.member(BOB, 'join', BOB, { displayname: 'Bob' });
      return { event: message((rr) => [...basic(rr), old])(r), available: [...r.stateEvents(), old] };
    },
    allow: false,
    reason: /duplicate entries/,
  },
  {
    version: '6',
    name: 'no create event cited',
    setup: bobJoined,
    event: message((r) => [get(r, 'm.room.power_levels'), get(r, 'm.room.member', BOB)]),
    allow: false,
    reason: /no m.room.create event among the entries/,
  },
  {
    version: '9',
    name: 'a cited auth event was rejected',
    setup: bobJoined,
    event: message(basic),
    rejected: (r) => [get(r, 'm.room.power_levels').eventId],
    allow: false,
    reason: /entry .*m.room.power_levels.* was rejected/,
  },
  {
    version: '3',
    name: 'a cited auth event belongs to another room',
    setup: bobJoined,
    event: (r) => {
      const foreign = r.event({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: {}, roomId: '!other:a.example' });
      const ev = r.event({
        type: 'm.room.message',
        sender: BOB,
        content: {},
        authEventIds: [get(r, 'm.room.create').eventId, foreign.eventId, get(r, 'm.room.member', BOB).eventId],
      });
      return { event: ev, available: [...r.stateEvents(), foreign] };
    },
    allow: false,
    reason: /belongs to room !other:a.example/,
  },
  {
    version: '7',
    name: 'a cited auth event is not available',
    setup: bobJoined,
    event: (r) => r.event({ type: 'm.room.message', sender: BOB, content: {}, authEventIds: [get(r, 'm.room.create').eventId, '$missing'] }),
    allow: false,
    reason: /auth event \$missing is not available/,
  },
  {
    version: '5',
    name: 'a cited auth event is not a state event',
    setup: bobJoined,
    event: (r) => {
      const m = r.event({ type: 'm.room.message', sender: BOB, content: {} });
      const ev = r.event({ type: 'm.room.message', sender: BOB, content: {}, authEventIds: [get(r, 'm.room.create').eventId, m.eventId] });
      return { event: ev, available: [...r.stateEvents(), m] };
    },
    allow: false,
    reason: /is not a state event/,
  },
  {
    version: '8',
    name: "restricted join citing the authoriser's membership",
    setup: { joinRule: 'restricted', members: [[BOB, 'join']] },
    event: (r) =>
      r.event({
        type: 'm.room.member',
        sender: CAROL,
        stateKey: CAROL,
        content: { membership: 'join', join_authorised_via_users_server: BOB },
        authEventIds: [get(r, 'm.room.create'), get(r, 'm.room.power_levels'), get(r, 'm.room.join_rules'), get(r, 'm.room.member', BOB)].map(
          (e) => e.eventId,
        ),
      }),
    allow: true,
  },
  {
    version: '7',
    name: "join citing the authoriser's membership before restricted rooms existed",
    setup: { joinRule: 'public', members: [[BOB, 'join']] },
    event: (r) =>
      r.event({
        type: 'm.room.member',
        sender: CAROL,
        stateKey: CAROL,
        content: { membership: 'join', join_authorised_via_users_server: BOB },
        authEventIds: [get(r, 'm.room.create'), get(r, 'm.room.power_levels'), get(r, 'm.room.join_rules'), get(r, 'm.room.member', BOB)].map(
          (e) => e.eventId,
        ),
      }),
    allow: false,
    reason: /unexpected entry .*@bob:b.example/,
  },
  {
    version: '1',
    name: 'third-party invite citing its m.room.third_party_invite',
    setup: { joinRule: 'invite' },
    event: (r) => {
      const tpi = r.addEvent({ type: 'm.room.third_party_invite', sender: ALICE, stateKey: 'tok', content: {} });
      return r.event({
        type: 'm.room.member',
        sender: ALICE,
        stateKey: BOB,
        content: { membership: 'invite', third_party_invite: { signed: { mxid: BOB, token: 'tok' } } },
        authEventIds: [get(r, 'm.room.create'), get(r, 'm.room.power_levels'), get(r, 'm.room.member', ALICE), get(r, 'm.room.join_rules'), tpi].map(
          (e) => e.eventId,
        ),
      });
    },
    allow: true,
  },
  {
    version: '1',
    name: 'create event (rule 1 allows it before the list is considered)',
    event: (r) => r.event({ type: 'm.room.create', sender: ALICE, stateKey: '', content: { creator: ALICE }, prevEventIds: [], authEventIds: [] }),
    allow: true,
  },
];

for (const c of cases) {
  test(`v${c.version}: auth events list: ${c.name} → ${c.allow ? 'allow' : 'reject'}`, () => {
    const room = makeRoom(c.version, c.setup);
    const built = c.event(room);
    const { event, available } = 'available' in built ? built : { event: built, available: room.stateEvents() };
    const rejected = new Set(c.rejected?.(room) ?? []);
    const result = checkAuthEventsList(room.version, event, available, (id) => rejected.has(id));
    const reason = result.allowed ? '' : result.reason;
    assert.equal(result.allowed, c.allow, `expected ${c.allow ? 'allow' : 'reject'}, got ${reason || 'allow'}`);
    if (!c.allow) assert.match(reason, c.reason ?? /^$/);
  });
}

const keyStrings = (keys: Array<[string, string]>) => keys.map(([t, s]) => `${t}|${s}`).sort();

test('auth events selection: ordinary events cite create (before v12), power levels and the sender', () => {
  for (const v of ALL_VERSIONS) {
    const keys = keyStrings(authEventKeysFor(version(v), { type: 'm.room.message', sender: BOB, content: {} }));
    const expected = ['m.room.power_levels|', `m.room.member|${BOB}`];
    if (v !== '12') expected.push('m.room.create|');
    assert.deepEqual(keys, expected.sort(), `v${v}`);
  }
  assert.deepEqual(authEventKeysFor(version('1'), { type: 'm.room.create', stateKey: '', sender: ALICE, content: {} }), []);
});

test('auth events selection: membership events', () => {
  const v = version('10');
  const join = (content: Record<string, string>) => keyStrings(authEventKeysFor(v, { type: 'm.room.member', stateKey: BOB, sender: BOB, content }));
  assert.deepEqual(join({ membership: 'join' }), ['m.room.create|', 'm.room.join_rules|', `m.room.member|${BOB}`, 'm.room.power_levels|']);
  assert.deepEqual(join({ membership: 'knock' }), ['m.room.create|', 'm.room.join_rules|', `m.room.member|${BOB}`, 'm.room.power_levels|']);
  assert.deepEqual(join({ membership: 'leave' }), ['m.room.create|', `m.room.member|${BOB}`, 'm.room.power_levels|']);
  assert.deepEqual(join({ membership: 'join', join_authorised_via_users_server: CAROL }), [
    'm.room.create|',
    'm.room.join_rules|',
    `m.room.member|${BOB}`,
    `m.room.member|${CAROL}`,
    'm.room.power_levels|',
  ]);
  const v7 = keyStrings(
    authEventKeysFor(version('7'), { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join', join_authorised_via_users_server: CAROL } }),
  );
  assert.ok(!v7.includes(`m.room.member|${CAROL}`));
  const kick = keyStrings(authEventKeysFor(version('12'), { type: 'm.room.member', stateKey: CAROL, sender: ALICE, content: { membership: 'ban' } }));
  assert.deepEqual(kick, [`m.room.member|${ALICE}`, `m.room.member|${CAROL}`, 'm.room.power_levels|']);
  const tpi = keyStrings(
    authEventKeysFor(version('1'), {
      type: 'm.room.member',
      stateKey: BOB,
      sender: ALICE,
      content: { membership: 'invite', third_party_invite: { signed: { mxid: BOB, token: 'tok' } } },
    }),
  );
  assert.ok(tpi.includes('m.room.third_party_invite|tok'));
  assert.ok(tpi.includes('m.room.join_rules|'));
});
