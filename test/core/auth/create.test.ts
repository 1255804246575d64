import type { JsonObject } from '../../../src/core/json.js';
import { ALICE, type AuthCase, BOB, TestRoom } from './fixtures.js';
import { runAuthCases } from './run-cases.js';

/** An empty room (no state at all) whose ID is `roomId` (ignored by v12, which derives it). */
const empty =
  (roomId = '!room:a.example') =>
  (v: string): TestRoom =>
    new TestRoom(v, roomId);

function create(content: JsonObject, opts: { sender?: string; prev?: string[]; wireRoomId?: string | null } = {}) {
  return (r: TestRoom) =>
    r.event({
      type: 'm.room.create',
      sender: opts.sender ?? ALICE,
      stateKey: '',
      content,
      prevEventIds: opts.prev ?? [],
      wireRoomId: opts.wireRoomId,
    });
}

const cases: AuthCase[] = [
  { version: '1', name: 'create with creator, no room_version (defaults to 1)', build: empty(), event: create({ creator: ALICE }), allow: true },
  {
    version: '1',
    name: 'create with prev_events',
    build: empty(),
    event: create({ creator: ALICE }, { prev: ['$earlier:a.example'] }),
    allow: false,
    reason: /create: the create event must not have prev_events/,
  },
  {
    version: '3',
    name: "create whose room_id domain is not the sender's",
    build: empty('!room:b.example'),
    event: create({ creator: ALICE, room_version: '3' }),
    allow: false,
    reason: /create: room_id domain of !room:b.example does not match the sender/,
  },
  {
    version: '6',
    name: 'create naming an unknown room version',
    build: empty(),
    event: create({ creator: ALICE, room_version: '99' }),
    allow: false,
    reason: /create: room_version "99" is not a recognised room version/,
  },
  {
    version: '6',
    name: 'create with a numeric room version',
    build: empty(),
    event: create({ creator: ALICE, room_version: 6 }),
    allow: false,
    reason: /create: room_version 6 is not a recognised/,
  },
  {
    version: '10',
    name: 'create without creator',
    build: empty(),
    event: create({ room_version: '10' }),
    allow: false,
    reason: /create: content has no creator property/,
  },
  { version: '11', name: 'create without creator (sender is the creator)', build: empty(), event: create({ room_version: '11' }), allow: true },
  {
    version: '11',
    name: "create whose room_id domain is not the sender's",
    build: empty('!room:b.example'),
    event: create({ room_version: '11' }),
    allow: false,
    reason: /room_id domain/,
  },
  {
    version: '11',
    name: 'create with junk additional_creators (meaningless before v12)',
    build: empty(),
    event: create({ room_version: '11', additional_creators: 'everyone' }),
    allow: true,
  },
  { version: '12', name: 'create without room_id', build: empty(), event: create({ room_version: '12' }), allow: true },
  {
    version: '12',
    name: 'create carrying a room_id',
    build: empty(),
    event: create({ room_version: '12' }, { wireRoomId: '!room:a.example' }),
    allow: false,
    reason: /create: the create event must not have a room_id/,
  },
  {
    version: '12',
    name: 'create with prev_events',
    build: empty(),
    event: create({ room_version: '12' }, { prev: ['$x'] }),
    allow: false,
    reason: /must not have prev_events/,
  },
  {
    version: '12',
    name: 'create with valid additional_creators',
    build: empty(),
    event: create({ room_version: '12', additional_creators: [BOB, '@Legacy User:[::1]:8448'] }),
    allow: true,
  },
  {
    version: '12',
    name: 'create with additional_creators that is not an array',
    build: empty(),
    event: create({ room_version: '12', additional_creators: BOB }),
    allow: false,
    reason: /create: additional_creators is not an array/,
  },
  {
    version: '12',
    name: 'create with an additional creator that is not a user ID',
    build: empty(),
    event: create({ room_version: '12', additional_creators: [BOB, 'bob:b.example'] }),
    allow: false,
    reason: /additional_creators entry "bob:b.example" is not a valid user ID/,
  },
  {
    version: '12',
    name: 'create with an additional creator on an invalid server name',
    build: empty(),
    event: create({ room_version: '12', additional_creators: ['@bob:bad_host!'] }),
    allow: false,
    reason: /additional_creators entry "@bob:bad_host!" is not a valid user ID/,
  },
  {
    version: '12',
    name: 'create with a non-string additional creator',
    build: empty(),
    event: create({ room_version: '12', additional_creators: [42] }),
    allow: false,
    reason: /additional_creators entry 42/,
  },
];

runAuthCases(cases);
