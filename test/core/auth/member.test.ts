import type { JsonObject } from '../../../src/core/json.js';
import { domainOf, type RoomEvent } from '../../../src/core/pdu.js';
import { ALICE, type AuthCase, BOB, CAROL, DAVE, TestRoom } from './fixtures.js';
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
];

const invites: AuthCase[] = [
  {
    version: '1',
    name: 'invite by a non-member',
    setup: { joinRule: 'invite' },
    event: (r) => r.memberEvent(CAROL, 'invite', BOB),
    allow: false,
    reason: /invite: sender is not joined and cannot invite/,
  },
  {
    version: '5',
    name: 'invite by a member at the default invite level 0',
    setup: { joinRule: 'invite', members: [[BOB, 'invite'], [BOB, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'invite', BOB),
    allow: true,
  },
  {
    version: '5',
    name: 'invite by a member below the invite level',
    setup: { joinRule: 'public', powerLevels: { users: { [ALICE]: 100 }, invite: 50 }, members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'invite', BOB),
    allow: false,
    reason: /below the invite level 50/,
  },
  {
    version: '6',
    name: 'invite a user who is already joined',
    setup: { members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(BOB, 'invite', ALICE),
    allow: false,
    reason: /already joined/,
  },
  {
    version: '10',
    name: 'invite a banned user',
    setup: { members: [[BOB, 'ban']] },
    event: (r) => r.memberEvent(BOB, 'invite', ALICE),
    allow: false,
    reason: /invite: target @bob:b.example is banned/,
  },
  {
    version: '12',
    name: 'creator invites although the invite level is 100 and they are not in users',
    setup: { powerLevels: { users: {}, invite: 100 } },
    event: (r) => r.memberEvent(BOB, 'invite', ALICE),
    allow: true,
  },
  {
    version: '11',
    name: 'create sender invites when invite level is 100 and no users entry (no creator power in v11)',
    setup: { powerLevels: { users: {}, invite: 100 } },
    event: (r) => r.memberEvent(BOB, 'invite', ALICE),
    allow: false,
    reason: /level 0 is below the invite level 100/,
  },
];

const leaves: AuthCase[] = [
  { version: '1', name: 'joined member leaves', setup: { members: [[BOB, 'join']] }, event: (r) => r.memberEvent(BOB, 'leave'), allow: true },
  { version: '2', name: 'invited user rejects the invite', setup: { members: [[BOB, 'invite']] }, event: (r) => r.memberEvent(BOB, 'leave'), allow: true },
  {
    version: '3',
    name: 'non-member leaves',
    event: (r) => r.memberEvent(BOB, 'leave'),
    allow: false,
    reason: /leave: sender's membership null cannot be left/,
  },
  {
    version: '7',
    name: 'knocking user rescinds the knock',
    setup: { joinRule: 'knock', members: [[BOB, 'knock']] },
    event: (r) => r.memberEvent(BOB, 'leave'),
    allow: true,
  },
  {
    version: '6',
    name: 'user with a knock membership leaves (knock means nothing before v7)',
    setup: { members: [[BOB, 'knock']] },
    event: (r) => r.memberEvent(BOB, 'leave'),
    allow: false,
    reason: /leave: sender's membership "knock" cannot be left/,
  },
  {
    version: '4',
    name: 'moderator kicks a user below them',
    setup: { powerLevels: { users: { [ALICE]: 100, [BOB]: 50 } }, members: [[BOB, 'join'], [CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'leave', BOB),
    allow: true,
  },
  {
    version: '4',
    name: 'moderator kicks a user at the same level',
    setup: { powerLevels: { users: { [ALICE]: 100, [BOB]: 50, [CAROL]: 50 } }, members: [[BOB, 'join'], [CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'leave', BOB),
    allow: false,
    reason: /cannot kick @carol:c.example \(sender level 50, kick level 50, target level 50\)/,
  },
  {
    version: '4',
    name: 'user below the kick level kicks',
    setup: { members: [[BOB, 'join'], [CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'leave', BOB),
    allow: false,
    reason: /cannot kick .*kick level 50/,
  },
  {
    version: '4',
    name: 'non-member kicks',
    setup: { powerLevels: { users: { [ALICE]: 100, [BOB]: 50 } }, members: [[CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'leave', BOB),
    allow: false,
    reason: /leave: sender is not joined and cannot kick/,
  },
  {
    version: '8',
    name: 'unban by a user with kick but not ban power',
    setup: { powerLevels: { users: { [ALICE]: 100, [BOB]: 25 }, kick: 0 }, members: [[BOB, 'join'], [CAROL, 'ban']] },
    event: (r) => r.memberEvent(CAROL, 'leave', BOB),
    allow: false,
    reason: /below the ban level 50 needed to unban/,
  },
  {
    version: '8',
    name: 'unban by an admin',
    setup: { members: [[CAROL, 'ban']] },
    event: (r) => r.memberEvent(CAROL, 'leave', ALICE),
    allow: true,
  },
  {
    version: '12',
    name: 'creator kicks a user at 100',
    setup: { powerLevels: { users: { [BOB]: 100 } }, members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(BOB, 'leave', ALICE),
    allow: true,
  },
  {
    version: '12',
    name: 'creator kicks an additional creator',
    setup: { createContent: { additional_creators: [BOB] }, members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(BOB, 'leave', ALICE),
    allow: false,
    reason: /sender level Infinity, kick level 50, target level Infinity/,
  },
];

const bans: AuthCase[] = [
  { version: '2', name: 'admin bans a user', setup: { members: [[BOB, 'join']] }, event: (r) => r.memberEvent(BOB, 'ban', ALICE), allow: true },
  {
    version: '2',
    name: 'admin bans someone who never joined',
    event: (r) => r.memberEvent(CAROL, 'ban', ALICE),
    allow: true,
  },
  {
    version: '2',
    name: 'moderator bans a user at the same level',
    setup: { powerLevels: { users: { [ALICE]: 100, [BOB]: 50, [CAROL]: 50 } }, members: [[BOB, 'join'], [CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'ban', BOB),
    allow: false,
    reason: /ban: cannot ban @carol:c.example \(sender level 50, ban level 50, target level 50\)/,
  },
  {
    version: '3',
    name: 'moderator bans the admin',
    setup: { powerLevels: { users: { [ALICE]: 100, [BOB]: 50 } }, members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(ALICE, 'ban', BOB),
    allow: false,
    reason: /target level 100/,
  },
  {
    version: '5',
    name: 'user below the ban level bans',
    setup: { powerLevels: { users: { [ALICE]: 100, [BOB]: 49 } }, members: [[BOB, 'join'], [CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'ban', BOB),
    allow: false,
    reason: /sender level 49, ban level 50/,
  },
  {
    version: '9',
    name: 'non-member bans',
    setup: { powerLevels: { users: { [ALICE]: 100, [BOB]: 100 } }, members: [[CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'ban', BOB),
    allow: false,
    reason: /ban: sender is not joined and cannot ban/,
  },
  {
    version: '11',
    name: 'create sender with no power level entry cannot ban (no implicit creator power in v11)',
    setup: { powerLevels: { users: { [BOB]: 100 } }, members: [[BOB, 'join'], [CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'ban', ALICE),
    allow: false,
    reason: /sender level 0, ban level 50/,
  },
  {
    version: '12',
    name: 'user at 100 bans the creator',
    setup: { powerLevels: { users: { [BOB]: 100 } }, members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(ALICE, 'ban', BOB),
    allow: false,
    reason: /target level Infinity/,
  },
  {
    version: '12',
    name: 'additional creator bans the create sender',
    setup: { createContent: { additional_creators: [BOB] }, members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(ALICE, 'ban', BOB),
    allow: false,
    reason: /sender level Infinity, ban level 50, target level Infinity/,
  },
  {
    version: '12',
    name: 'additional creator bans an ordinary member',
    setup: { createContent: { additional_creators: [BOB] }, members: [[BOB, 'join'], [CAROL, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'ban', BOB),
    allow: true,
  },
];

const knocks: AuthCase[] = [
  {
    version: '6',
    name: 'knock (unsupported before v7)',
    setup: { joinRule: 'knock' },
    event: (r) => r.memberEvent(BOB, 'knock'),
    allow: false,
    reason: /unknown membership "knock" \(knocking is not supported in room version 6\)/,
  },
  { version: '7', name: 'knock on a knock room', setup: { joinRule: 'knock' }, event: (r) => r.memberEvent(BOB, 'knock'), allow: true },
  {
    version: '7',
    name: 'knock on a public room',
    setup: { joinRule: 'public' },
    event: (r) => r.memberEvent(BOB, 'knock'),
    allow: false,
    reason: /knock: join rule "public" does not allow knocking/,
  },
  {
    version: '7',
    name: 'knock on behalf of someone else',
    setup: { joinRule: 'knock', members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(CAROL, 'knock', BOB),
    allow: false,
    reason: /knock: sender does not match state_key/,
  },
  {
    version: '9',
    name: 'banned user knocks',
    setup: { joinRule: 'knock', members: [[BOB, 'ban']] },
    event: (r) => r.memberEvent(BOB, 'knock'),
    allow: false,
    reason: /knock: sender's membership is already ban/,
  },
  {
    version: '11',
    name: 'joined user knocks',
    setup: { joinRule: 'knock', members: [[BOB, 'join']] },
    event: (r) => r.memberEvent(BOB, 'knock'),
    allow: false,
    reason: /already join/,
  },
  {
    version: '8',
    name: 'knock on a knock_restricted room (unsupported before v10)',
    setup: { joinRule: 'knock_restricted' },
    event: (r) => r.memberEvent(BOB, 'knock'),
    allow: false,
    reason: /knock: join rule "knock_restricted" does not allow knocking/,
  },
  { version: '10', name: 'knock on a knock_restricted room', setup: { joinRule: 'knock_restricted' }, event: (r) => r.memberEvent(BOB, 'knock'), allow: true },
  { version: '12', name: 'user who left knocks again', setup: { joinRule: 'knock', members: [[BOB, 'join'], [BOB, 'leave']] }, event: (r) => r.memberEvent(BOB, 'knock'), allow: true },
];

const malformed: AuthCase[] = [
  {
    version: '1',
    name: 'member event without membership',
    event: (r) => r.event({ type: 'm.room.member', sender: BOB, stateKey: BOB, content: { displayname: 'b' } }),
    allow: false,
    reason: /member: content has no membership/,
  },
  {
    version: '10',
    name: 'member event with a numeric membership',
    event: (r) => r.event({ type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 42 } }),
    allow: false,
    reason: /member: unknown membership 42/,
  },
  {
    version: '3',
    name: 'member event without state_key',
    event: (r) => r.event({ type: 'm.room.member', sender: BOB, content: { membership: 'join' } }),
    allow: false,
    reason: /member: event has no state_key/,
  },
  {
    version: '11',
    name: 'unknown membership value',
    setup: { members: [[DAVE, 'join']] },
    event: (r) => r.memberEvent(DAVE, 'lurk'),
    allow: false,
    reason: /member: unknown membership "lurk"/,
  },
  {
    version: '8',
    name: 'join whose join_authorised_via_users_server is not a string',
    setup: { joinRule: 'public' },
    event: (r) => join(r, CAROL, { [VIA]: ['@bob:b.example'] }),
    allow: false,
    reason: /not signed by the server of join_authorised_via_users_server/,
  },
  {
    version: '5',
    name: 'join rules event with a non-string join_rule',
    setup: { joinRule: null },
    adjust: (r) => {
      r.addEvent({ type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: { nested: true } } });
    },
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: false,
    reason: /join rule undefined does not allow joining|does not allow joining/,
  },
];

runAuthCases([...joins, ...invites, ...leaves, ...bans, ...knocks, ...malformed]);
