import { ALICE, type AuthCase, BOB, CAROL, DAVE, TestRoom } from './fixtures.js';
import { runAuthCases } from './run-cases.js';

const msg = (sender: string) => (r: TestRoom) => r.event({ type: 'm.room.message', sender, content: { body: 'hi', msgtype: 'm.text' } });
const stateEv = (type: string, sender: string, stateKey = '') => (r: TestRoom) => r.event({ type, sender, stateKey, content: { x: 1 } });
const joined = { members: [[BOB, 'join']] as Array<[string, string]> };

const ordinary: AuthCase[] = [
  { version: '1', name: 'message from a joined member (events_default 0)', setup: joined, event: msg(BOB), allow: true },
  {
    version: '1',
    name: 'message from a non-member',
    event: msg(BOB),
    allow: false,
    reason: /sender @bob:b.example is not joined/,
  },
  {
    version: '7',
    name: 'message from an invited (not joined) user',
    setup: { members: [[BOB, 'invite']] },
    event: msg(BOB),
    allow: false,
    reason: /not joined/,
  },
  {
    version: '3',
    name: 'message below events_default',
    setup: { ...joined, powerLevels: { users: { [ALICE]: 100 }, events_default: 10 } },
    event: msg(BOB),
    allow: false,
    reason: /sending m.room.message requires level 10, sender has 0/,
  },
  {
    version: '6',
    name: 'message type raised above a moderator in events',
    setup: { ...joined, powerLevels: { users: { [ALICE]: 100, [BOB]: 50 }, events: { 'm.room.message': 60 } } },
    event: msg(BOB),
    allow: false,
    reason: /requires level 60, sender has 50/,
  },
  {
    version: '3',
    name: 'state event below state_default',
    setup: joined,
    event: stateEv('m.room.name', BOB),
    allow: false,
    reason: /sending m.room.name requires level 50, sender has 0/,
  },
  { version: '3', name: 'state event from the admin', setup: joined, event: stateEv('m.room.name', ALICE), allow: true },
  {
    version: '9',
    name: 'state event allowed by a lowered events entry',
    setup: { ...joined, powerLevels: { users: { [ALICE]: 100 }, events: { 'm.room.topic': 0 } } },
    event: stateEv('m.room.topic', BOB),
    allow: true,
  },
  {
    version: '9',
    name: 'state event with a stringy state_default ("10") in force',
    setup: { ...joined, powerLevels: { users: { [ALICE]: 100, [BOB]: '10' }, state_default: '10' } },
    event: stateEv('m.room.topic', BOB),
    allow: true,
  },
  {
    version: '4',
    name: "state_key naming another user",
    setup: joined,
    event: stateEv('org.example.status', ALICE, BOB),
    allow: false,
    reason: /state_key: @bob:b.example starts with @ and is not the sender/,
  },
  { version: '4', name: 'state_key naming the sender', setup: joined, event: stateEv('org.example.status', ALICE, ALICE), allow: true },
  {
    version: '12',
    name: 'creator may send anything even with events_default 1000',
    setup: { powerLevels: { users: {}, events_default: 1000, state_default: 1000 } },
    event: stateEv('m.room.tombstone', ALICE),
    allow: true,
  },
  {
    version: '12',
    name: 'user at 100 below a raised tombstone level',
    setup: { ...joined, powerLevels: { users: { [BOB]: 100 }, events: { 'm.room.tombstone': 150 } } },
    event: stateEv('m.room.tombstone', BOB),
    allow: false,
    reason: /sending m.room.tombstone requires level 150, sender has 100/,
  },
  {
    version: '1',
    name: 'm.room.third_party_invite at the invite level',
    setup: joined,
    event: stateEv('m.room.third_party_invite', BOB, 'tok'),
    allow: true,
  },
  {
    version: '8',
    name: 'm.room.third_party_invite below the invite level',
    setup: { ...joined, powerLevels: { users: { [ALICE]: 100 }, invite: 50 } },
    event: stateEv('m.room.third_party_invite', BOB, 'tok'),
    allow: false,
    reason: /third_party_invite: sender's level 0 is below the invite level 50/,
  },
  {
    version: '5',
    name: 'event in a room whose state has no create event',
    build: (v) => {
      const r = new TestRoom(v);
      r.member(BOB, 'join');
      return r;
    },
    event: msg(BOB),
    allow: false,
    reason: /no m.room.create event in the room state/,
  },
  {
    version: '12',
    name: "event whose room ID is not the create event's",
    setup: joined,
    event: (r) => r.event({ type: 'm.room.message', sender: BOB, content: {}, roomId: '!someotherroom' }),
    allow: false,
    reason: /room id: !someotherroom is not the ID of the room's create event/,
  },
  {
    version: '6',
    name: 'event checked against the create event of another room',
    setup: joined,
    event: (r) => r.event({ type: 'm.room.message', sender: BOB, content: {}, roomId: '!elsewhere:a.example' }),
    allow: false,
    reason: /belongs to !room:a.example, not !elsewhere:a.example/,
  },
];

const unfederated = { createContent: { 'm.federate': false }, members: [[DAVE, 'join']] as Array<[string, string]> };
const federation: AuthCase[] = [
  {
    version: '1',
    name: 'remote user joins an unfederated public room',
    setup: unfederated,
    event: (r) => r.memberEvent(BOB, 'join'),
    allow: false,
    reason: /federate: the room is not federated/,
  },
  { version: '1', name: 'local user leaves an unfederated room', setup: unfederated, event: (r) => r.memberEvent(DAVE, 'leave'), allow: true },
  { version: '12', name: 'local user messages an unfederated room', setup: unfederated, event: msg(DAVE), allow: true },
  {
    version: '12',
    name: 'remote user messages an unfederated room',
    setup: unfederated,
    event: msg(CAROL),
    allow: false,
    reason: /federate/,
  },
  { version: '10', name: 'm.federate true lets remote users join', setup: { createContent: { 'm.federate': true } }, event: (r) => r.memberEvent(BOB, 'join'), allow: true },
];

const aliases: AuthCase[] = [
  {
    version: '1',
    name: 'aliases for the sender’s own domain from a non-member',
    event: (r) => r.event({ type: 'm.room.aliases', sender: BOB, stateKey: 'b.example', content: { aliases: ['#x:b.example'] } }),
    allow: true,
  },
  {
    version: '5',
    name: 'aliases for another domain',
    setup: joined,
    event: (r) => r.event({ type: 'm.room.aliases', sender: ALICE, stateKey: 'b.example', content: { aliases: [] } }),
    allow: false,
    reason: /aliases: state_key "b.example" does not match the sender's domain/,
  },
  {
    version: '2',
    name: 'aliases without a state_key',
    event: (r) => r.event({ type: 'm.room.aliases', sender: ALICE, content: { aliases: [] } }),
    allow: false,
    reason: /aliases: m.room.aliases event has no state_key/,
  },
  {
    version: '6',
    name: 'aliases from a non-member (special case removed)',
    event: (r) => r.event({ type: 'm.room.aliases', sender: BOB, stateKey: 'b.example', content: { aliases: [] } }),
    allow: false,
    reason: /not joined/,
  },
  {
    version: '6',
    name: 'aliases from a member below state_default',
    setup: joined,
    event: (r) => r.event({ type: 'm.room.aliases', sender: BOB, stateKey: 'b.example', content: { aliases: [] } }),
    allow: false,
    reason: /sending m.room.aliases requires level 50/,
  },
  {
    version: '11',
    name: 'aliases for another domain from the admin (ordinary state event now)',
    event: (r) => r.event({ type: 'm.room.aliases', sender: ALICE, stateKey: 'b.example', content: { aliases: [] } }),
    allow: true,
  },
];

function redaction(sender: string, redacts: string) {
  return (r: TestRoom) => r.event({ type: 'm.room.redaction', sender, content: {}, redacts });
}

const redactions: AuthCase[] = [
  {
    version: '1',
    name: 'ordinary user redacts an event from their own server',
    setup: joined,
    event: redaction(BOB, '$abc:b.example'),
    allow: true,
  },
  {
    version: '2',
    name: 'ordinary user redacts an event from another server',
    setup: joined,
    event: redaction(BOB, '$abc:a.example'),
    allow: false,
    reason: /redaction: sender's level 0 is below the redact level 50/,
  },
  { version: '1', name: 'admin redacts an event from another server', setup: joined, event: redaction(ALICE, '$abc:b.example'), allow: true },
  {
    version: '2',
    name: 'moderator at a lowered redact level redacts remote events',
    setup: { ...joined, powerLevels: { users: { [ALICE]: 100, [BOB]: 10 }, redact: 10 } },
    event: redaction(BOB, '$abc:a.example'),
    allow: true,
  },
  {
    version: '3',
    name: 'ordinary user redacts any event (checked later, on handling)',
    setup: joined,
    event: redaction(BOB, '$abc'),
    allow: true,
  },
  {
    version: '3',
    name: 'redaction below a raised m.room.redaction event level',
    setup: { ...joined, powerLevels: { users: { [ALICE]: 100 }, events: { 'm.room.redaction': 50 } } },
    event: redaction(BOB, '$abc'),
    allow: false,
    reason: /sending m.room.redaction requires level 50/,
  },
  {
    version: '11',
    name: 'redaction with redacts in content',
    setup: joined,
    event: (r) => r.event({ type: 'm.room.redaction', sender: BOB, content: { redacts: '$abc' }, redacts: '$abc' }),
    allow: true,
  },
];

runAuthCases([...ordinary, ...federation, ...aliases, ...redactions]);
