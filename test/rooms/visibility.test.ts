import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type HistoryVisibility, canSeeEvent, historyVisibilityOf } from '../../src/rooms/visibility.js';

const U = '@u:hs';
const msg = { type: 'm.room.message', stateKey: undefined };

function see(hv: HistoryVisibility, membership: string | undefined, joinedLater = false): boolean {
  return canSeeEvent({ event: msg, viewer: U, before: { historyVisibility: hv, membership }, joinedLater });
}

test('unknown or missing history_visibility means shared', () => {
  assert.equal(historyVisibilityOf(undefined), 'shared');
  assert.equal(historyVisibilityOf({ history_visibility: 'bogus' }), 'shared');
  assert.equal(historyVisibilityOf({ history_visibility: 5 }), 'shared');
  assert.equal(historyVisibilityOf({ history_visibility: 'joined' }), 'joined');
});

test('the four rules of the spec', () => {
  assert.equal(see('world_readable', undefined), true);
  assert.equal(see('joined', 'join'), true);
  assert.equal(see('joined', 'invite', true), false);
  assert.equal(see('shared', undefined, true), true);
  assert.equal(see('shared', undefined, false), false);
  assert.equal(see('shared', 'leave', false), false);
  assert.equal(see('invited', 'invite'), true);
  assert.equal(see('invited', undefined, true), false);
  assert.equal(see('joined', 'ban'), false);
  assert.equal(see('joined', 'knock'), false);
});

test('history visibility events count if visible before or after', () => {
  const ev = { type: 'm.room.history_visibility', stateKey: '' };
  const before = { historyVisibility: 'joined' as const, membership: undefined };
  const after = { historyVisibility: 'world_readable' as const, membership: undefined };
  assert.equal(canSeeEvent({ event: ev, viewer: U, before, after, joinedLater: false }), true);
  assert.equal(canSeeEvent({ event: ev, viewer: U, before: after, after: before, joinedLater: false }), true);
  assert.equal(canSeeEvent({ event: ev, viewer: U, before, after: before, joinedLater: false }), false);
});

test("the viewer's own membership events count if visible before or after, others' do not", () => {
  const own = { type: 'm.room.member', stateKey: U };
  const other = { type: 'm.room.member', stateKey: '@x:hs' };
  const before = { historyVisibility: 'joined' as const, membership: undefined };
  const after = { historyVisibility: 'joined' as const, membership: 'join' };
  assert.equal(canSeeEvent({ event: own, viewer: U, before, after, joinedLater: false }), true);
  // leaving: joined before, left after
  assert.equal(
    canSeeEvent({ event: own, viewer: U, before: after, after: { ...before, membership: 'leave' }, joinedLater: false }),
    true,
  );
  assert.equal(canSeeEvent({ event: other, viewer: U, before, after, joinedLater: false }), false);
});
