import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  namedPowerLevel,
  notificationPowerLevel,
  parsePowerLevel,
  requiredPowerForEvent,
  roomCreators,
  userPowerLevel,
} from '../../../src/core/auth/index.js';
import type { JsonObject } from '../../../src/core/json.js';
import { ALICE, type AuthCase, BOB, CAROL, DAVE, makeRoom, type TestRoom, version } from './fixtures.js';
import { runAuthCases } from './run-cases.js';

function pl(sender: string, content: JsonObject) {
  return (r: TestRoom) => r.event({ type: 'm.room.power_levels', sender, stateKey: '', content });
}

/** Alice 100, Bob a moderator at 50 who may send power levels, Carol 25, Dave 50; all joined. */
const MODS: JsonObject = {
  users: { [ALICE]: 100, [BOB]: 50, [CAROL]: 25, [DAVE]: 50 },
  events: { 'm.room.power_levels': 50, 'm.room.name': 100 },
  kick: 75,
  redact: 100,
  notifications: { room: 100 },
};
const modRoom = { powerLevels: MODS, members: [[BOB, 'join'], [CAROL, 'join'], [DAVE, 'join']] as Array<[string, string]> };
const withUsers = (users: JsonObject): JsonObject => ({ ...MODS, users });

const cases: AuthCase[] = [
  {
    version: '1',
    name: 'first power levels event from the creator (100 without a PL event)',
    setup: { powerLevels: null },
    event: pl(ALICE, { users: { [ALICE]: 100 }, ban: 1000 }),
    allow: true,
  },
  {
    version: '1',
    name: 'first power levels event from an ordinary member (state_default 50 applies)',
    setup: { powerLevels: null, members: [[BOB, 'join']] },
    event: pl(BOB, { users: { [BOB]: 100 } }),
    allow: false,
    reason: /sending m.room.power_levels requires level 50, sender has 0/,
  },
  { version: '3', name: 'admin promotes a user to 50', setup: modRoom, event: pl(ALICE, withUsers({ ...MODS.users as JsonObject, [CAROL]: 50 })), allow: true },
  {
    version: '3',
    name: 'moderator promotes a user above their own level',
    setup: modRoom,
    event: pl(BOB, withUsers({ ...(MODS.users as JsonObject), [CAROL]: 75 })),
    allow: false,
    reason: /cannot give @carol:c.example level 75, above the sender's level 50/,
  },
  {
    version: '4',
    name: 'moderator raises their own level',
    setup: modRoom,
    event: pl(BOB, withUsers({ ...(MODS.users as JsonObject), [BOB]: 60 })),
    allow: false,
    reason: /cannot give @bob:b.example level 60/,
  },
  { version: '4', name: 'moderator demotes themself', setup: modRoom, event: pl(BOB, withUsers({ ...(MODS.users as JsonObject), [BOB]: 0 })), allow: true },
  {
    version: '4',
    name: 'moderator removes their own entry',
    setup: modRoom,
    event: pl(BOB, withUsers({ [ALICE]: 100, [CAROL]: 25, [DAVE]: 50 })),
    allow: true,
  },
  {
    version: '4',
    name: 'moderator demotes another moderator at the same level',
    setup: modRoom,
    event: pl(BOB, withUsers({ ...(MODS.users as JsonObject), [DAVE]: 0 })),
    allow: false,
    reason: /cannot change the level of @dave:a.example \(50\), not below the sender's level 50/,
  },
  { version: '4', name: 'moderator demotes a user below them', setup: modRoom, event: pl(BOB, withUsers({ ...(MODS.users as JsonObject), [CAROL]: 0 })), allow: true },
  {
    version: '5',
    name: 'moderator demotes the admin',
    setup: modRoom,
    event: pl(BOB, withUsers({ ...(MODS.users as JsonObject), [ALICE]: 0 })),
    allow: false,
    reason: /cannot change the level of @alice:a.example \(100\)/,
  },
  { version: '5', name: 'moderator lowers ban from 50 to 40', setup: modRoom, event: pl(BOB, { ...MODS, ban: 40 }), allow: true },
  {
    version: '5',
    name: 'moderator lowers kick from 75 (above them)',
    setup: modRoom,
    event: pl(BOB, { ...MODS, kick: 50 }),
    allow: false,
    reason: /cannot change kick from 75, above the sender's level 50/,
  },
  {
    version: '5',
    name: 'moderator sets ban to 60',
    setup: modRoom,
    event: pl(BOB, { ...MODS, ban: 60 }),
    allow: false,
    reason: /cannot set ban to 60, above the sender's level 50/,
  },
  {
    version: '7',
    name: 'moderator removes redact (currently 100)',
    setup: modRoom,
    event: pl(BOB, { users: MODS.users as JsonObject, events: MODS.events as JsonObject, kick: 75, notifications: { room: 100 } }),
    allow: false,
    reason: /cannot change redact from 100/,
  },
  {
    version: '2',
    name: 'moderator lowers an event level set above them',
    setup: modRoom,
    event: pl(BOB, { ...MODS, events: { 'm.room.power_levels': 50, 'm.room.name': 0 } }),
    allow: false,
    reason: /cannot change events\["m.room.name"\] from 100/,
  },
  {
    version: '2',
    name: 'moderator adds an event level at 40',
    setup: modRoom,
    event: pl(BOB, { ...MODS, events: { ...(MODS.events as JsonObject), 'm.room.topic': 40 } }),
    allow: true,
  },
  {
    version: '8',
    name: 'moderator adds an event level above them',
    setup: modRoom,
    event: pl(BOB, { ...MODS, events: { ...(MODS.events as JsonObject), 'm.room.topic': 51 } }),
    allow: false,
    reason: /cannot set events\["m.room.topic"\] to 51/,
  },
  {
    version: '5',
    name: 'moderator lowers notifications.room from 100 (unchecked before v6)',
    setup: modRoom,
    event: pl(BOB, { ...MODS, notifications: { room: 0 } }),
    allow: true,
  },
  {
    version: '6',
    name: 'moderator lowers notifications.room from 100',
    setup: modRoom,
    event: pl(BOB, { ...MODS, notifications: { room: 0 } }),
    allow: false,
    reason: /cannot change notifications\["room"\] from 100/,
  },
  {
    version: '6',
    name: 'admin lowers notifications.room',
    setup: modRoom,
    event: pl(ALICE, { ...MODS, notifications: { room: 0 } }),
    allow: true,
  },
  {
    version: '9',
    name: 'power levels with string values',
    setup: modRoom,
    event: pl(ALICE, { ...MODS, ban: ' +50 ', users: { [ALICE]: '100', [BOB]: '050' } }),
    allow: true,
  },
  {
    version: '10',
    name: 'power levels with a string ban level',
    setup: modRoom,
    event: pl(ALICE, { ...MODS, ban: '50' }),
    allow: false,
    reason: /power_levels: ban "50" is not a valid power level/,
  },
  {
    version: '10',
    name: 'power levels with a string user level',
    setup: modRoom,
    event: pl(ALICE, withUsers({ [ALICE]: '100' })),
    allow: false,
    reason: /users\["@alice:a.example"\] "100" is not a valid power level/,
  },
  {
    version: '11',
    name: 'power levels with a string event level',
    setup: modRoom,
    event: pl(ALICE, { ...MODS, events: { 'm.room.name': '50' } }),
    allow: false,
    reason: /events\["m.room.name"\] "50" is not a valid power level/,
  },
  {
    version: '10',
    name: 'power levels whose notifications is not an object',
    setup: modRoom,
    event: pl(ALICE, { ...MODS, notifications: 50 }),
    allow: false,
    reason: /notifications is not an object/,
  },
  {
    version: '1',
    name: 'power levels whose users is an array',
    setup: modRoom,
    event: pl(ALICE, { ...MODS, users: [ALICE] }),
    allow: false,
    reason: /users is not an object/,
  },
  {
    version: '6',
    name: 'power levels with a users key that is not a user ID',
    setup: modRoom,
    event: pl(ALICE, withUsers({ [ALICE]: 100, bob: 50 })),
    allow: false,
    reason: /users key "bob" is not a valid user ID/,
  },
  {
    version: '3',
    name: 'power levels with a non-numeric string user level',
    setup: modRoom,
    event: pl(ALICE, withUsers({ [ALICE]: 100, [BOB]: 'fifty' })),
    allow: false,
    reason: /users\["@bob:b.example"\] "fifty" is not a valid power level/,
  },
  {
    version: '2',
    name: 'float user level is truncated (50.7 → 50, not above a moderator)',
    setup: modRoom,
    event: pl(BOB, withUsers({ ...(MODS.users as JsonObject), [CAROL]: 50.7 })),
    allow: true,
  },
  {
    version: '9',
    name: 'rewriting a stringy level as the same integer is no change',
    setup: { ...modRoom, powerLevels: { ...MODS, kick: '75' } },
    event: pl(BOB, { ...MODS, kick: 75 }),
    allow: true,
  },
  {
    version: '12',
    name: 'power levels listing the creator',
    setup: { powerLevels: { users: {} } },
    event: pl(ALICE, { users: { [ALICE]: 100 } }),
    allow: false,
    reason: /room creator @alice:a.example must not be listed in users/,
  },
  {
    version: '12',
    name: 'power levels listing an additional creator',
    setup: { createContent: { additional_creators: [BOB] }, powerLevels: { users: {} } },
    event: pl(ALICE, { users: { [BOB]: 50 } }),
    allow: false,
    reason: /room creator @bob:b.example must not be listed/,
  },
  {
    version: '12',
    name: 'creator sets everything to 1000 (infinite power)',
    setup: { powerLevels: { users: { [BOB]: 100 } }, members: [[BOB, 'join']] },
    event: pl(ALICE, { users: { [BOB]: 1000 }, state_default: 1000, ban: 1000 }),
    allow: true,
  },
  {
    version: '12',
    name: 'user at 100 demotes another user at 100',
    setup: { powerLevels: { users: { [BOB]: 100, [CAROL]: 100 } }, members: [[BOB, 'join'], [CAROL, 'join']] },
    event: pl(BOB, { users: { [BOB]: 100, [CAROL]: 0 } }),
    allow: false,
    reason: /cannot change the level of @carol:c.example \(100\), not below the sender's level 100/,
  },
  {
    version: '11',
    name: 'v11 creator listed in power levels users is fine',
    setup: { powerLevels: { users: { [ALICE]: 100 } } },
    event: pl(ALICE, { users: { [ALICE]: 100, [BOB]: 10 } }),
    allow: true,
  },
];

runAuthCases(cases);

test('parsePowerLevel follows each version’s encoding', () => {
  const v1 = version('1');
  const v9 = version('9');
  const v10 = version('10');
  assert.equal(parsePowerLevel(v9, ' +050 '), 50);
  assert.equal(parsePowerLevel(v9, '-7'), -7);
  assert.equal(parsePowerLevel(v9, '5.5'), undefined);
  assert.equal(parsePowerLevel(v9, '1e3'), undefined);
  assert.equal(parsePowerLevel(v10, '50'), undefined);
  assert.equal(parsePowerLevel(v10, 50), 50);
  assert.equal(parsePowerLevel(v1, 51146.98), 51146);
  assert.equal(parsePowerLevel(v1, Number.NaN), undefined);
  assert.equal(parsePowerLevel(v1, true), undefined);
  assert.equal(parsePowerLevel(v1, null), undefined);
  assert.equal(parsePowerLevel(v10, 1.5), undefined);
});

test('userPowerLevel: creator gets 100 without a power levels event (v1–v11), infinity in v12', () => {
  for (const v of ['1', '10', '11']) {
    const room = makeRoom(v, { powerLevels: null, members: [[BOB, 'join']] });
    assert.equal(userPowerLevel(room.version, ALICE, room.lookup), 100, `v${v} creator`);
    assert.equal(userPowerLevel(room.version, BOB, room.lookup), 0, `v${v} other`);
  }
  const v12 = makeRoom('12', { powerLevels: null, createContent: { additional_creators: [CAROL] } });
  assert.equal(userPowerLevel(v12.version, ALICE, v12.lookup), Number.POSITIVE_INFINITY);
  assert.equal(userPowerLevel(v12.version, CAROL, v12.lookup), Number.POSITIVE_INFINITY);
  assert.equal(userPowerLevel(v12.version, BOB, v12.lookup), 0);
});

test('userPowerLevel falls back to users_default, and ignores malformed users', () => {
  const room = makeRoom('9', { powerLevels: { users: { [ALICE]: '100' }, users_default: '10' } });
  assert.equal(userPowerLevel(room.version, ALICE, room.lookup), 100);
  assert.equal(userPowerLevel(room.version, BOB, room.lookup), 10);
  const odd = makeRoom('1', { powerLevels: { users: 'nobody', users_default: 'x' } });
  assert.equal(userPowerLevel(odd.version, ALICE, odd.lookup), 0);
  assert.equal(userPowerLevel(odd.version, 'constructor', odd.lookup), 0);
});

test('requiredPowerForEvent and named levels use the spec defaults', () => {
  const bare = makeRoom('6', { powerLevels: null });
  assert.equal(requiredPowerForEvent(bare.version, 'm.room.name', true, bare.lookup), 50);
  assert.equal(requiredPowerForEvent(bare.version, 'm.room.message', false, bare.lookup), 0);
  assert.equal(namedPowerLevel(bare.version, 'invite', bare.lookup), 0);
  assert.equal(namedPowerLevel(bare.version, 'kick', bare.lookup), 50);
  assert.equal(namedPowerLevel(bare.version, 'ban', bare.lookup), 50);
  assert.equal(namedPowerLevel(bare.version, 'redact', bare.lookup), 50);
  assert.equal(notificationPowerLevel(bare.version, 'room', bare.lookup), 50);

  const set = makeRoom('6', {
    powerLevels: { events: { 'm.room.name': 20, toString: 3 }, state_default: 30, events_default: 5, invite: 7, notifications: { room: 9 } },
  });
  assert.equal(requiredPowerForEvent(set.version, 'm.room.name', true, set.lookup), 20);
  assert.equal(requiredPowerForEvent(set.version, 'm.room.topic', true, set.lookup), 30);
  assert.equal(requiredPowerForEvent(set.version, 'm.room.message', false, set.lookup), 5);
  assert.equal(requiredPowerForEvent(set.version, 'constructor', false, set.lookup), 5);
  assert.equal(namedPowerLevel(set.version, 'invite', set.lookup), 7);
  assert.equal(notificationPowerLevel(set.version, 'room', set.lookup), 9);
});

test('roomCreators per version', () => {
  const v10 = makeRoom('10', { createContent: { creator: BOB } });
  assert.deepEqual([...roomCreators(v10.version, v10.lookup)], [BOB]);
  const v11 = makeRoom('11', { createContent: { creator: BOB, additional_creators: [CAROL] } });
  assert.deepEqual([...roomCreators(v11.version, v11.lookup)], [ALICE]);
  const v12 = makeRoom('12', { createContent: { additional_creators: [CAROL, DAVE] } });
  assert.deepEqual([...roomCreators(v12.version, v12.lookup)].sort(), [ALICE, CAROL, DAVE].sort());
});
