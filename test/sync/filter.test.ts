import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accountDataPasses,
  effectiveLimit,
  eventPasses,
  parseFilter,
  parseRoomEventFilter,
  projectFields,
  roomPasses,
  typeMatches,
} from '../../src/sync/filter.js';

function must<T>(r: { ok: true; filter: T } | { ok: false; reason: string }): T {
  if (!r.ok) throw new Error(r.reason);
  return r.filter;
}

test('an empty filter lets everything through with defaults', () => {
  const f = must(parseFilter({}));
  assert.equal(f.eventFormat, 'client');
  assert.equal(f.room.includeLeave, false);
  assert.equal(f.room.timeline.limit, undefined);
  assert.equal(f.room.state.lazyLoadMembers, false);
  assert.equal(eventPasses(f.room.timeline, { type: 'm.room.message', sender: '@a:hs', roomId: '!r:hs' }), true);
  assert.equal(effectiveLimit(f.room.timeline, 10, 100), 10);
  assert.equal(must(parseFilter(undefined)).room.state.includeRedundantMembers, false);
});

test('wrongly typed keys are refused with the key path', () => {
  const cases: Array<[unknown, string]> = [
    [{ room: { timeline: { limit: 0 } } }, 'room.timeline.limit'],
    [{ room: { timeline: { limit: 2.5 } } }, 'room.timeline.limit'],
    [{ room: { state: { types: 'm.room.name' } } }, 'room.state.types'],
    [{ room: { state: { lazy_load_members: 'yes' } } }, 'room.state.lazy_load_members'],
    [{ room: { include_leave: 1 } }, 'room.include_leave'],
    [{ room: [] }, 'room'],
    [{ presence: { not_senders: [1] } }, 'presence.not_senders'],
    [{ event_format: 'xml' }, 'event_format'],
    [[], 'filter'],
  ];
  for (const [json, key] of cases) {
    const r = parseFilter(json as never);
    assert.equal(r.ok, false, JSON.stringify(json));
    if (!r.ok) assert.ok(r.reason.includes(key), `${r.reason} names ${key}`);
  }
  assert.equal(parseRoomEventFilter({ limit: -1 }).ok, false);
  assert.equal(must(parseFilter({ some_future_key: { x: 1 } })).eventFormat, 'client', 'unknown keys are ignored');
});

test('type wildcards', () => {
  assert.equal(typeMatches('m.room.*', 'm.room.message'), true);
  assert.equal(typeMatches('m.room.*', 'm.room.'), true);
  assert.equal(typeMatches('m.room.*', 'm.roomx'), false);
  assert.equal(typeMatches('*', 'anything'), true);
  assert.equal(typeMatches('m.*.member', 'm.room.member'), true);
  assert.equal(typeMatches('m.*.member', 'm.room.members'), false);
  assert.equal(typeMatches('*a*a', 'aa'), true);
  assert.equal(typeMatches('*ab*ab', 'ab'), false);
  assert.equal(typeMatches('m.room.message', 'm.room.message'), true);
  assert.equal(typeMatches('m.room.message', 'm.room.messages'), false);
  assert.equal(typeMatches('m.room.?', 'm.room.x'), false, 'only * is special');
});

test('types/not_types/senders/not_senders: exclusions win', () => {
  const f = must(
    parseRoomEventFilter({
      types: ['m.room.*'],
      not_types: ['m.room.member'],
      senders: ['@a:hs', '@b:hs'],
      not_senders: ['@b:hs'],
    }),
  );
  const ok = (type: string, sender: string) => eventPasses(f, { type, sender });
  assert.equal(ok('m.room.message', '@a:hs'), true);
  assert.equal(ok('m.room.member', '@a:hs'), false);
  assert.equal(ok('m.reaction', '@a:hs'), false);
  assert.equal(ok('m.room.message', '@b:hs'), false);
  assert.equal(ok('m.room.message', '@c:hs'), false);
});

test('rooms/not_rooms and contains_url', () => {
  const f = must(parseRoomEventFilter({ rooms: ['!a:hs', '!b:hs'], not_rooms: ['!b:hs'], contains_url: true }));
  assert.equal(roomPasses(f, '!a:hs'), true);
  assert.equal(roomPasses(f, '!b:hs'), false);
  assert.equal(roomPasses(f, '!c:hs'), false);
  const img = { type: 'm.room.message', sender: '@a:hs', roomId: '!a:hs', content: { url: 'mxc://x/y' } };
  const text = { type: 'm.room.message', sender: '@a:hs', roomId: '!a:hs', content: { body: 'hi' } };
  assert.equal(eventPasses(f, img), true);
  assert.equal(eventPasses(f, text), false);
  assert.equal(eventPasses(f, { ...img, roomId: '!b:hs' }), false);
  const noUrl = must(parseRoomEventFilter({ contains_url: false }));
  assert.equal(eventPasses(noUrl, img), false);
  assert.equal(eventPasses(noUrl, text), true);
});

test('account data filters match on type', () => {
  const f = must(parseFilter({ account_data: { types: ['m.*'], not_types: ['m.push_rules'] } }));
  assert.equal(accountDataPasses(f.accountData, 'm.direct'), true);
  assert.equal(accountDataPasses(f.accountData, 'm.push_rules'), false);
  assert.equal(accountDataPasses(f.accountData, 'org.example'), false);
});

test('limits are capped', () => {
  const f = must(parseRoomEventFilter({ limit: 5000 }));
  assert.equal(effectiveLimit(f, 10, 1000), 1000);
  assert.equal(effectiveLimit(must(parseRoomEventFilter({ limit: 3 })), 10, 1000), 3);
});

test('event_fields projection keeps exactly the named paths', () => {
  const ev = { type: 't', sender: '@a:hs', content: { body: 'b', 'a.b': 1, other: 2 }, unsigned: { age: 1 } };
  assert.deepEqual(projectFields(ev, ['type', 'content.body', 'content.a\\.b', 'missing.x']), {
    type: 't',
    content: { body: 'b', 'a.b': 1 },
  });
  assert.equal(projectFields(ev, undefined), ev);
});
