import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LazyMemberCache, selectLazyMembers } from '../../src/sync/lazy-members.js';

const memberState = new Map([
  ['@me:hs', '$me'],
  ['@a:hs', '$a'],
  ['@b:hs', '$b'],
  ['@c:hs', '$c'],
]);

const sorted = (s: Set<string>) => [...s].sort();

test('only timeline senders, heroes and (when asked) the viewer', () => {
  const base = { viewer: '@me:hs', memberState, alreadySent: undefined, includeRedundant: false };
  assert.deepEqual(sorted(selectLazyMembers({ ...base, timelineSenders: ['@a:hs', '@a:hs'], includeViewer: false })), ['@a:hs']);
  assert.deepEqual(sorted(selectLazyMembers({ ...base, timelineSenders: ['@a:hs'], includeViewer: true })), ['@a:hs', '@me:hs']);
  assert.deepEqual(
    sorted(selectLazyMembers({ ...base, timelineSenders: [], extraUsers: ['@c:hs'], includeViewer: false })),
    ['@c:hs'],
  );
  assert.deepEqual(
    sorted(selectLazyMembers({ ...base, timelineSenders: ['@nobody:hs'], includeViewer: false })),
    [],
    'a sender with no member event in the state has nothing to include',
  );
});

test('redundant members are skipped unless include_redundant_members', () => {
  const sent = new Map([
    ['@a:hs', '$a'],
    ['@b:hs', '$old-b'],
  ]);
  const q = { viewer: '@me:hs', memberState, alreadySent: sent, timelineSenders: ['@a:hs', '@b:hs'], includeViewer: false };
  assert.deepEqual(sorted(selectLazyMembers({ ...q, includeRedundant: false })), ['@b:hs'], 'b changed since it was sent');
  assert.deepEqual(sorted(selectLazyMembers({ ...q, includeRedundant: true })), ['@a:hs', '@b:hs']);
});

test('gap membership changes are always included', () => {
  const sent = new Map([['@c:hs', '$c']]);
  const r = selectLazyMembers({
    viewer: '@me:hs',
    memberState,
    alreadySent: sent,
    timelineSenders: [],
    includeViewer: false,
    includeRedundant: false,
    gapChanges: ['@c:hs', '@gone:hs'],
  });
  assert.deepEqual(sorted(r), ['@c:hs']);
});

test('the cache remembers per device and room, and evicts the oldest device', () => {
  const cache = new LazyMemberCache(2);
  cache.record('@u:hs', 'D1', '!r', [['@a:hs', '$a']]);
  cache.record('@u:hs', 'D1', '!r', [['@b:hs', '$b']]);
  assert.deepEqual([...(cache.get('@u:hs', 'D1', '!r') ?? [])], [
    ['@a:hs', '$a'],
    ['@b:hs', '$b'],
  ]);
  assert.equal(cache.get('@u:hs', 'D2', '!r'), undefined);
  assert.equal(cache.get('@u:hs', 'D1', '!other'), undefined);
  cache.record('@u:hs', 'D2', '!r', [['@a:hs', '$a']]);
  cache.get('@u:hs', 'D1', '!r'); // D1 is now the most recent
  cache.record('@u:hs', 'D3', '!r', [['@a:hs', '$a']]);
  assert.equal(cache.get('@u:hs', 'D2', '!r'), undefined, 'D2 evicted');
  assert.ok(cache.get('@u:hs', 'D1', '!r'));
  cache.reset('@u:hs', 'D1', '!r');
  assert.equal(cache.get('@u:hs', 'D1', '!r'), undefined);
});
