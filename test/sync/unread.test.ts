import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CountableEvent, countUnread, highlights, notifies } from '../../src/sync/unread.js';

const me = { userId: '@alice:hs', displayName: 'Alice' };
const msg = (body: string, extra: Partial<CountableEvent> = {}): CountableEvent => ({
  type: 'm.room.message',
  stateKey: undefined,
  sender: '@bob:hs',
  content: { msgtype: 'm.text', body },
  ...extra,
});

test('only others’ non-state, unredacted, non-redaction events notify', () => {
  assert.equal(notifies(msg('hi'), me), true);
  assert.equal(notifies(msg('hi', { sender: me.userId }), me), false);
  assert.equal(notifies(msg('hi', { type: 'm.room.name', stateKey: '' }), me), false);
  assert.equal(notifies(msg('hi', { type: 'm.room.redaction' }), me), false);
  assert.equal(notifies(msg('hi', { redacted: true }), me), false);
  assert.equal(notifies(msg('', { type: 'org.custom.event' }), me), true);
});

test('highlights: user ID, display name as a word, case-insensitive', () => {
  assert.equal(highlights(msg('hey @ALICE:hs look'), me), true);
  assert.equal(highlights(msg('alice: lunch?'), me), true);
  assert.equal(highlights(msg('ask ALICE.'), me), true);
  assert.equal(highlights(msg('Alicespring is far'), me), false, 'not inside another word');
  assert.equal(highlights(msg('malice'), me), false);
  assert.equal(highlights(msg('nothing here'), me), false);
  assert.equal(highlights(msg('Alice', { sender: me.userId }), me), false, 'own events never highlight');
  assert.equal(highlights(msg('hi alice'), { userId: me.userId, displayName: '  ' }), false, 'blank names match nothing');
  assert.equal(highlights(msg('hi [bot]'), { userId: me.userId, displayName: '[bot]' }), true, 'names with punctuation');
});

test('m.mentions decides when present', () => {
  const mentioned = msg('no name here', { content: { body: 'no name here', 'm.mentions': { user_ids: [me.userId] } } });
  assert.equal(highlights(mentioned, me), true);
  const other = msg('Alice!', { content: { body: 'Alice!', 'm.mentions': { user_ids: ['@carol:hs'] } } });
  assert.equal(highlights(other, me), false, 'an explicit mention list without the user overrides the body');
  const empty = msg('Alice!', { content: { body: 'Alice!', 'm.mentions': {} } });
  assert.equal(highlights(empty, me), false);
});

test('countUnread sums notifications and highlights', () => {
  const events = [
    msg('one'),
    msg('Alice, two'),
    msg('mine', { sender: me.userId }),
    msg('', { type: 'm.room.topic', stateKey: '' }),
    msg('@alice:hs three'),
  ];
  assert.deepEqual(countUnread(events, me), { notification_count: 3, highlight_count: 2 });
  assert.deepEqual(countUnread([], me), { notification_count: 0, highlight_count: 0 });
});

test('a call invite notifies while its lifetime lasts and not after', () => {
  const invite = (lifetime: unknown): CountableEvent => ({
    type: 'm.call.invite',
    stateKey: undefined,
    sender: '@bob:hs',
    content: { call_id: 'c1', version: '1', party_id: 'p', lifetime: lifetime as number, offer: { type: 'offer', sdp: 'v=0' } },
    originServerTs: 1_000_000,
  });
  assert.equal(notifies(invite(90_000), { ...me, now: 1_000_000 + 89_999 }), true);
  assert.equal(notifies(invite(90_000), { ...me, now: 1_000_000 + 90_000 }), true);
  assert.equal(notifies(invite(90_000), { ...me, now: 1_000_000 + 90_001 }), false);
  // No clock, or no usable lifetime: the rule has nothing to go on and the invite notifies.
  assert.equal(notifies(invite(90_000), me), true);
  assert.equal(notifies(invite('90000'), { ...me, now: 9_999_999 }), true);
  // Only invites expire; other call events carry no lifetime semantics.
  const hangup: CountableEvent = { ...invite(1), type: 'm.call.hangup' };
  assert.equal(notifies(hangup, { ...me, now: 9_999_999 }), true);
  assert.deepEqual(countUnread([invite(90_000), invite(10)], { ...me, now: 1_000_000 + 60_000 }), { notification_count: 1, highlight_count: 0 });
});
