/** m.room.member auth rules for joins, restricted joins and their via-server signatures included. */
import type { JsonObject } from '../../../src/core/json.js';
import { domainOf, type RoomEvent } from '../../../src/core/pdu.js';
import { ALICE, type AuthCase, BOB, CAROL, TestRoom } from './fixtures.js';
import { runAuthCases } from './run-cases.js';

/** A join by `user` carrying `extra` content, signed by the servers of `signers` (and the user's). */
function join(room: TestRoom, user: string, extra: JsonObject = {}, signers: string[] = []): RoomEvent {
  const signatures: Record<string, Record<string, string>> = { [domainOf(user)]: { 'ed25519:1': 'x' } };
  for (const s of signers) signatures[domainOf(s)] = { 'ed25519:1': 'x' };
  return room.event({ type: 'm.room.member', sender: user, stateKey: user, content: { membership: 'join', ...extra }, signatures });
}

/** A room holding nothing but its create event. */
function onlyCreate(createContent: JsonObject = {}, sender = ALICE) {
  return (v: string): TestRoom => {
    const room = new TestRoom(v);
    room.create(sender, createContent);
    return room;
  };
}

const VIA = 'join_authorised_via_users_server';
const restricted = { joinRule: 'restricted', joinRulesExtra: { allow: [{ type: 'm.room_membership', room_id: '!other:a.example' }] } };

const joins: AuthCase[] = [
  { version: '1', name: 'creator joins right after create', build: onlyCreate(), event: (r) => r.memberEvent(ALICE, 'join'), allow: true },
  { version: '11', name: 'create sender joins right after create (no creator property)', build: onlyCreate(), event: (r) => r.memberEvent(ALICE, 'join'), allow: true },
  { version: '12', name: 'create sender joins right after create', build: onlyCreate(), event: (r) => r.memberEvent(ALICE, 'join'), allow: true },
  {
    version: '10',
    name: 'create sender joins first but content.creator names someone else',
    build: onlyCreate({ creator: BOB }),
    event: (r) => r.memberEvent(ALICE, 'join'),
    allow: false,
    reason: /join rule is invite and sender is not invited/,
  },
  {
    version: '11',
    name: 'create sender joins first; a stray content.creator is ignored',
    build: onlyCreate({ creator: BOB }),
    event: (r) => r.memberEvent(ALICE, 'join'),
    allow: true,
  },
  {
    version: '12',
    name: 'non-creator joins right after create, no join rules (invite by default)',
    build: onlyCreate(),
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: false,
    reason: /join rule is invite and sender is not invited/,
  },
  {
    version: '6',
    name: 'joining someone else',
    setup: { joinRule: 'public' },
    event: (r) => r.memberEvent(BOB, 'join', ALICE),
    allow: false,
    reason: /join: sender does not match state_key/,
  },
  { version: '1', name: 'join public room', setup: { joinRule: 'public' }, event: (r) => r.memberEvent(BOB, 'join'), allow: true },
  {
    version: '9',
    name: 'banned user joins public room',
    setup: { joinRule: 'public', members: [[BOB, 'ban']] },
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: false,
    reason: /join: sender is banned/,
  },
  {
    version: '3',
    name: 'join invite-only room without invite',
    setup: { joinRule: 'invite' },
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: false,
    reason: /join rule is invite and sender is not invited/,
  },
  {
    version: '3',
    name: 'join invite-only room with invite',
    setup: { joinRule: 'invite', members: [[BOB, 'invite']] },
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: true,
  },
  {
    version: '5',
    name: 'joined member re-joins (profile change) in invite-only room',
    setup: { joinRule: 'invite', members: [[BOB, 'invite'], [BOB, 'join']] },
    event: (r) => r.memberEvent(BOB, 'join', BOB, { displayname: 'Bob' }),
    allow: true,
  },
  {
    version: '7',
    name: 'join knock room with invite',
    setup: { joinRule: 'knock', members: [[BOB, 'knock'], [BOB, 'invite']] },
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: true,
  },
  {
    version: '7',
    name: 'join knock room after knocking, not yet invited',
    setup: { joinRule: 'knock', members: [[BOB, 'knock']] },
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: false,
    reason: /join rule is knock and sender is not invited/,
  },
  {
    version: '6',
    name: 'join with invite when join rule is knock (no such rule before v7)',
    setup: { joinRule: 'knock', members: [[BOB, 'invite']] },
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: false,
    reason: /join rule "knock" does not allow joining/,
  },
  {
    version: '4',
    name: 'join a room whose join rule is private',
    setup: { joinRule: 'private' },
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: false,
    reason: /join rule "private" does not allow joining/,
  },
  {
    version: '8',
    name: 'restricted join authorised by a joined member with invite power',
    setup: { ...restricted, members: [[BOB, 'join']] },
    event: (r) => join(r, CAROL, { [VIA]: BOB }, [BOB]),
    allow: true,
  },
  {
    version: '8',
    name: 'restricted join without join_authorised_via_users_server',
    setup: { ...restricted, members: [[BOB, 'join']] },
    event: (r) => join(r, CAROL),
    allow: false,
    reason: /restricted and there is no join_authorised_via_users_server/,
  },
  {
    version: '9',
    name: 'restricted join authorised by a user who is not joined',
    setup: { ...restricted, members: [[BOB, 'invite']] },
    event: (r) => join(r, CAROL, { [VIA]: BOB }, [BOB]),
    allow: false,
    reason: /join_authorised_via_users_server @bob:b.example is not joined/,
  },
  {
    version: '9',
    name: 'restricted join authorised by a joined user below the invite level',
    setup: { ...restricted, powerLevels: { users: { [ALICE]: 100 }, invite: 50 }, members: [[BOB, 'join']] },
    event: (r) => join(r, CAROL, { [VIA]: BOB }, [BOB]),
    allow: false,
    reason: /lacks the power to invite/,
  },
  {
    version: '8',
    name: 'restricted join naming an authoriser whose server did not sign',
    setup: { ...restricted, members: [[BOB, 'join']] },
    event: (r) => join(r, CAROL, { [VIA]: BOB }),
    allow: false,
    reason: /not signed by the server of join_authorised_via_users_server/,
  },
  {
    version: '10',
    name: 'restricted join by an invited user needs no authoriser',
    setup: { ...restricted, members: [[CAROL, 'invite']] },
    event: (r) => join(r, CAROL),
    allow: true,
  },
  {
    version: '7',
    name: 'restricted join rule before v8 (authoriser ignored)',
    setup: { ...restricted, members: [[BOB, 'join']] },
    event: (r) => join(r, CAROL, { [VIA]: BOB }, [BOB]),
    allow: false,
    reason: /join rule "restricted" does not allow joining/,
  },
  {
    version: '9',
    name: 'knock_restricted join before v10',
    setup: { joinRule: 'knock_restricted', members: [[BOB, 'join']] },
    event: (r) => join(r, CAROL, { [VIA]: BOB }, [BOB]),
    allow: false,
    reason: /join rule "knock_restricted" does not allow joining/,
  },
  {
    version: '10',
    name: 'knock_restricted join authorised by a joined member',
    setup: { joinRule: 'knock_restricted', members: [[BOB, 'join']] },
    event: (r) => join(r, CAROL, { [VIA]: BOB }, [BOB]),
    allow: true,
  },
  {
    version: '10',
    name: 'knock_restricted join by an invited user',
    setup: { joinRule: 'knock_restricted', members: [[CAROL, 'invite']] },
    event: (r) => join(r, CAROL),
    allow: true,
  },
  {
    version: '12',
    name: 'restricted join authorised by the creator (infinite power) despite invite level 100',
    setup: { ...restricted, powerLevels: { users: {}, invite: 100 } },
    event: (r) => join(r, CAROL, { [VIA]: ALICE }, [ALICE]),
    allow: true,
  },
  {
    version: '8',
    name: 'join whose join_authorised_via_users_server is not a string',
    setup: { joinRule: 'public' },
    event: (r) => join(r, CAROL, { [VIA]: ['@bob:b.example'] }),
    allow: false,
    reason: /not signed by the server of join_authorised_via_users_server/,
  },
];

runAuthCases(joins);
