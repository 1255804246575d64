import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAuthEventsList, checkEventAuth, isValidServerName, isValidUserId } from '../../../src/core/auth/index.js';
import type { JsonObject, JsonValue } from '../../../src/core/json.js';
import { ALICE, ALL_VERSIONS, BOB, makeRoom, type TestRoom } from './fixtures.js';

const WEIRD: JsonValue[] = [null, 42, -1.5, '50', ' 50 ', 'x', true, [], [1, 'a'], {}, { nested: { deep: [] } }];

/** Malformed events of every auth-relevant type. */
function weirdEvents(r: TestRoom) {
  const out = [];
  for (const w of WEIRD) {
    const contents: JsonObject[] = [
      { membership: w },
      { membership: 'join', join_authorised_via_users_server: w },
      { membership: 'invite', third_party_invite: w },
      { membership: 'invite', third_party_invite: { signed: w } },
      { membership: 'invite', third_party_invite: { signed: { mxid: BOB, token: w, signatures: w } } },
      { users: w },
      { users: { [BOB]: w }, events: w, notifications: w, ban: w },
      { creator: w, room_version: w, additional_creators: w, 'm.federate': w },
      // As parsed from the wire: these become own properties, not prototype changes.
      JSON.parse(`{"__proto__": ${JSON.stringify(w)}, "constructor": ${JSON.stringify(w)}, "membership": "leave"}`) as JsonObject,
    ];
    for (const content of contents) {
      out.push(r.event({ type: 'm.room.member', sender: BOB, stateKey: BOB, content }));
      out.push(r.event({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content }));
      out.push(r.event({ type: 'm.room.create', sender: ALICE, stateKey: '', content, prevEventIds: [] }));
      out.push(r.event({ type: 'm.room.redaction', sender: ALICE, content, redacts: typeof w === 'string' ? w : undefined }));
    }
  }
  return out;
}

test('malformed events and malformed room state never throw and never hit the fail-closed fallback', () => {
  let checked = 0;
  for (const v of ALL_VERSIONS) {
    // A room whose own state is malformed too.
    for (const w of WEIRD) {
      const room = makeRoom(v, {
        powerLevels: { users: w, users_default: w, events: w, state_default: w, notifications: w },
        joinRule: null,
        createContent: { additional_creators: w, 'm.federate': w },
      });
      room.addEvent({ type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: w, allow: w } });
      room.addEvent({ type: 'm.room.third_party_invite', sender: ALICE, stateKey: 'tok', content: { public_key: w, public_keys: w } });
      for (const ev of weirdEvents(room)) {
        const result = checkEventAuth(room.version, ev, room.lookup);
        assert.equal(typeof result.allowed, 'boolean');
        if (!result.allowed) assert.doesNotMatch(result.reason, /could not be checked/);
        const list = checkAuthEventsList(room.version, ev, room.stateEvents());
        assert.equal(typeof list.allowed, 'boolean');
        checked += 1;
      }
    }
  }
  assert.ok(checked > 1000);
});

test('user ID and server name grammar', () => {
  for (const ok of ['@a:b.example', '@Legacy User!:b.example', '@:b.example', '@a:1.2.3.4:8448', '@a:[::1]', '@a:[1234:5678::abcd]:5678']) {
    assert.ok(isValidUserId(ok), ok);
  }
  for (const bad of ['a:b.example', '@a', '@a:', '@a:b_c.example', '@a:b.example:', '@a:b.example:123456', '@a:[::1', '@a\u0000b:c', `@${'x'.repeat(250)}:b.example`, 42]) {
    assert.ok(!isValidUserId(bad), String(bad));
  }
  assert.ok(isValidServerName('matrix.org:8888'));
  assert.ok(!isValidServerName(''));
});
