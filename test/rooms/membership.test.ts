import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canForget,
  membershipContent,
  membershipOf,
  membershipTransition,
  precheckMembershipAction,
} from '../../src/rooms/membership.js';

test('membershipOf reads only known values', () => {
  assert.equal(membershipOf({ membership: 'join' }), 'join');
  assert.equal(membershipOf({ membership: 'joined' }), undefined);
  assert.equal(membershipOf(undefined), undefined);
});

test('membershipContent maps actions and keeps only meaningful fields', () => {
  assert.deepEqual(membershipContent('kick', { reason: 'spam', displayname: 'x' }), { membership: 'leave', reason: 'spam' });
  assert.deepEqual(membershipContent('unban'), { membership: 'leave' });
  assert.deepEqual(membershipContent('ban', { reason: '' }), { membership: 'ban' });
  assert.deepEqual(membershipContent('join', { displayname: 'A', avatarUrl: 'mxc://hs/a' }), {
    membership: 'join',
    displayname: 'A',
    avatar_url: 'mxc://hs/a',
  });
  assert.deepEqual(membershipContent('invite', { isDirect: true }), { membership: 'invite', is_direct: true });
});

test('prechecks refuse requests whose meaning the auth rules would change', () => {
  assert.equal(precheckMembershipAction('unban', '@a:hs', '@b:hs', 'join').ok, false);
  assert.equal(precheckMembershipAction('unban', '@a:hs', '@b:hs', 'ban').ok, true);
  assert.equal(precheckMembershipAction('kick', '@a:hs', '@b:hs', 'ban').ok, false);
  assert.equal(precheckMembershipAction('kick', '@a:hs', '@b:hs', undefined).ok, false);
  assert.equal(precheckMembershipAction('kick', '@a:hs', '@b:hs', 'invite').ok, true);
  assert.equal(precheckMembershipAction('invite', '@a:hs', '@b:hs', 'join').ok, false);
  assert.equal(precheckMembershipAction('invite', '@a:hs', '@b:hs', 'leave').ok, true);
  assert.equal(precheckMembershipAction('join', '@a:hs', '@a:hs', 'join').ok, true);
});

test('forget needs the user to be out of the room', () => {
  assert.equal(canForget('join'), false);
  assert.equal(canForget('invite'), false);
  assert.equal(canForget('leave'), true);
  assert.equal(canForget('ban'), true);
  assert.equal(canForget(undefined), true);
});

test('transitions are named from the previous membership and who acted', () => {
  assert.equal(membershipTransition(undefined, 'join', '@a', '@a'), 'joined');
  assert.equal(membershipTransition('join', 'join', '@a', '@a'), 'profile_changed');
  assert.equal(membershipTransition('join', 'leave', '@a', '@a'), 'left');
  assert.equal(membershipTransition('join', 'leave', '@b', '@a'), 'kicked');
  assert.equal(membershipTransition('invite', 'leave', '@a', '@a'), 'invite_rejected');
  assert.equal(membershipTransition('invite', 'leave', '@b', '@a'), 'invite_withdrawn');
  assert.equal(membershipTransition('ban', 'leave', '@b', '@a'), 'unbanned');
  assert.equal(membershipTransition('knock', 'leave', '@b', '@a'), 'knock_rejected');
  assert.equal(membershipTransition(undefined, 'ban', '@b', '@a'), 'banned');
});
