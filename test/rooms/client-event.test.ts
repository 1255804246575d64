import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pdu, RoomEvent } from '../../src/core/pdu.js';
import { toClientEvent, toStrippedState } from '../../src/rooms/client-event.js';
import { getRoomVersion } from '../../src/rooms/versions.js';

const V11 = getRoomVersion('11')!;

function ev(over: Partial<RoomEvent>): RoomEvent {
  const base = {
    eventId: '$e',
    roomId: '!r:hs',
    type: 'm.room.message',
    stateKey: undefined,
    sender: '@a:hs',
    content: { body: 'hi', msgtype: 'm.text' },
    originServerTs: 1000,
    depth: 3,
    prevEventIds: [],
    authEventIds: [],
    redacts: undefined,
    pdu: {} as Pdu,
  };
  return { ...base, ...over };
}

test('message events: fields, age, transaction id, no state_key', () => {
  const c = toClientEvent(ev({}), { version: V11, now: 1500, transactionId: 't1' });
  assert.deepEqual(c, {
    event_id: '$e',
    room_id: '!r:hs',
    type: 'm.room.message',
    sender: '@a:hs',
    content: { body: 'hi', msgtype: 'm.text' },
    origin_server_ts: 1000,
    unsigned: { age: 500, transaction_id: 't1' },
  });
  assert.equal('state_key' in c, false);
});

test('state events keep state_key and carry prev_content / replaces_state; room_id can be omitted', () => {
  const c = toClientEvent(ev({ type: 'm.room.topic', stateKey: '', content: { topic: 'b' } }), {
    version: V11,
    now: 1000,
    omitRoomId: true,
    prevContent: { topic: 'a' },
    replacesState: '$old',
  });
  assert.equal(c.state_key, '');
  assert.equal(c.room_id, undefined);
  assert.deepEqual(c.unsigned, { age: 0, prev_content: { topic: 'a' }, replaces_state: '$old' });
});

test('redacted events lose their content and show redacted_because', () => {
  const redaction = ev({
    eventId: '$r',
    type: 'm.room.redaction',
    sender: '@m:hs',
    content: { redacts: '$e', reason: 'spam' },
    redacts: '$e',
    originServerTs: 1200,
  });
  const c = toClientEvent(ev({}), { version: V11, now: 2000, redactedBecause: redaction });
  assert.deepEqual(c.content, {});
  const because = c.unsigned.redacted_because!;
  assert.equal(because.event_id, '$r');
  assert.equal(because.redacts, '$e');
  assert.deepEqual(because.content, { redacts: '$e', reason: 'spam' });
  assert.equal(because.unsigned.age, 800);
});

test('redaction keeps the keys the room version preserves', () => {
  const member = ev({ type: 'm.room.member', stateKey: '@a:hs', content: { membership: 'join', displayname: 'A' } });
  const c = toClientEvent(member, { version: V11, now: 1000, redactedBecause: ev({ eventId: '$r', type: 'm.room.redaction' }) });
  assert.deepEqual(c.content, { membership: 'join' });
});

test('stripped state has only type, state_key, sender, content', () => {
  const s = toStrippedState(ev({ type: 'm.room.name', stateKey: '', content: { name: 'N' } }));
  assert.deepEqual(s, { type: 'm.room.name', state_key: '', sender: '@a:hs', content: { name: 'N' } });
});
