/** Room creation, sending, state, event fetch and redaction over raw HTTP. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { createRoomAs } from './harness/room-helpers.js';
import { suiteServer } from './harness/suite.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

describe('rooms: create, send, state, events, redaction', () => {
  const server = suiteServer();
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    alice = await registerUser(server);
    bob = await registerUser(server);
  });

  const createRoom = (user: TestUser, body: Record<string, unknown> = {}) => createRoomAs(server, user, body);

  test('createRoom: v12 by default, with the preset, name, topic and alias state', async () => {
    const alias = `pub${Date.now()}`;
    const roomId = await createRoom(alice, { preset: 'public_chat', name: 'Pub', topic: 'Beer', room_alias_name: alias });
    assert.match(roomId, /^!/);
    const state = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state`, { token: alice.accessToken });
    assert.equal(state.status, 200);
    const byType = new Map<string, { content: Record<string, unknown>; sender: string }>(
      state.body.map((e: { type: string; state_key: string }) => [`${e.type}|${e.state_key}`, e]),
    );
    const create = byType.get('m.room.create|')!;
    assert.equal(create.content.room_version, '12');
    assert.equal(create.content.creator, undefined);
    assert.equal(byType.get('m.room.join_rules|')?.content.join_rule, 'public');
    assert.equal(byType.get('m.room.name|')?.content.name, 'Pub');
    assert.equal(byType.get('m.room.topic|')?.content.topic, 'Beer');
    assert.equal(byType.get('m.room.canonical_alias|')?.content.alias, `#${alias}:localhost`);
    const pl = byType.get('m.room.power_levels|')!.content as { users: Record<string, number> };
    assert.equal(pl.users[alice.userId], undefined, 'v12 creators are not listed in power levels');
    assert.equal(byType.get(`m.room.member|${alice.userId}`)?.content.membership, 'join');
    for (const e of state.body) {
      assert.equal(e.room_id, roomId);
      assert.equal(typeof e.origin_server_ts, 'number');
      assert.match(e.event_id, /^\$/);
    }
    const dir = await api(server, 'GET', `${V3}/directory/room/${enc(`#${alias}:localhost`)}`);
    assert.deepEqual(dir.body, { room_id: roomId, servers: ['localhost'] });
  });

  test('createRoom: older versions, unknown versions, taken aliases and bad bodies', async () => {
    const v10 = await createRoom(alice, { room_version: '10' });
    assert.match(v10, /^!.+:localhost$/);
    const create = await api(server, 'GET', `${V3}/rooms/${enc(v10)}/state/m.room.create`, { token: alice.accessToken });
    assert.deepEqual(create.body, { creator: alice.userId, room_version: '10' });
    const pl = await api(server, 'GET', `${V3}/rooms/${enc(v10)}/state/m.room.power_levels/`, { token: alice.accessToken });
    assert.equal(pl.body.users[alice.userId], 100);

    const bad = await api(server, 'POST', `${V3}/createRoom`, { token: alice.accessToken, body: { room_version: '999' } });
    assertError(bad, 400, 'M_UNSUPPORTED_ROOM_VERSION');
    const alias = `taken${Date.now()}`;
    await createRoom(alice, { room_alias_name: alias });
    const taken = await api(server, 'POST', `${V3}/createRoom`, { token: bob.accessToken, body: { room_alias_name: alias } });
    assertError(taken, 400, 'M_ROOM_IN_USE');
    const wrongType = await api(server, 'POST', `${V3}/createRoom`, { token: alice.accessToken, body: { name: 5 } });
    assertError(wrongType, 400, 'M_BAD_JSON');
    const notJson = await api(server, 'POST', `${V3}/createRoom`, { token: alice.accessToken, rawBody: '{', headers: { 'content-type': 'application/json' } });
    assertError(notJson, 400, 'M_NOT_JSON');
    const noToken = await api(server, 'POST', `${V3}/createRoom`, { body: {} });
    assertError(noToken, 401, 'M_MISSING_TOKEN');
    const badState = await api(server, 'POST', `${V3}/createRoom`, {
      token: alice.accessToken,
      body: { power_level_content_override: { users: { [alice.userId]: 100 } } },
    });
    assertError(badState, 400, 'M_INVALID_ROOM_STATE');
  });

  test('send is idempotent per transaction ID and the event reads back with transaction_id', async () => {
    const roomId = await createRoom(alice);
    const path = `${V3}/rooms/${enc(roomId)}/send/m.room.message/txn1`;
    const a = await api(server, 'PUT', path, { token: alice.accessToken, body: { msgtype: 'm.text', body: 'hello' } });
    const b = await api(server, 'PUT', path, { token: alice.accessToken, body: { msgtype: 'm.text', body: 'hello' } });
    assert.equal(a.status, 200);
    assert.equal(a.body.event_id, b.body.event_id);
    const ev = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/event/${enc(a.body.event_id)}`, { token: alice.accessToken });
    assert.equal(ev.status, 200);
    assert.equal(ev.body.type, 'm.room.message');
    assert.deepEqual(ev.body.content, { msgtype: 'm.text', body: 'hello' });
    assert.equal(ev.body.sender, alice.userId);
    assert.equal(ev.body.unsigned.transaction_id, 'txn1');
    assert.equal(typeof ev.body.unsigned.age, 'number');
    assert.equal('state_key' in ev.body, false);
  });

  test('non-members cannot send, read state or fetch events', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat' });
    const sent = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/t`, { token: alice.accessToken, body: { body: 'secret' } });
    const send = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/t`, { token: bob.accessToken, body: { body: 'x' } });
    assertError(send, 403, 'M_FORBIDDEN');
    assertError(await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state`, { token: bob.accessToken }), 403, 'M_FORBIDDEN');
    const ev = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/event/${enc(sent.body.event_id)}`, { token: bob.accessToken });
    assertError(ev, 404, 'M_NOT_FOUND');
    const unknownRoom = await api(server, 'PUT', `${V3}/rooms/${enc('!nope:localhost')}/send/m.room.message/t`, { token: alice.accessToken, body: {} });
    assertError(unknownRoom, 404, 'M_NOT_FOUND');
    const body = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/t2`, { token: alice.accessToken, rawBody: '[1]', headers: { 'content-type': 'application/json' } });
    assertError(body, 400, 'M_BAD_JSON');
  });

  test('oversize events are refused with M_TOO_LARGE', async () => {
    const roomId = await createRoom(alice);
    const res = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/big`, {
      token: alice.accessToken,
      body: { body: 'x'.repeat(70_000) },
    });
    assertError(res, 413, 'M_TOO_LARGE');
  });

  test('state: PUT and GET with and without a state key, format=event, prev_content, 404 for missing', async () => {
    const roomId = await createRoom(alice);
    const r1 = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/state/m.room.topic`, { token: alice.accessToken, body: { topic: 'one' } });
    const r2 = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/state/m.room.topic/`, { token: alice.accessToken, body: { topic: 'two' } });
    assert.equal(r1.status, 200);
    assert.notEqual(r1.body.event_id, r2.body.event_id);
    const again = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/state/m.room.topic`, { token: alice.accessToken, body: { topic: 'two' } });
    assert.equal(again.body.event_id, r2.body.event_id, 'an identical state change is not sent twice');
    const got = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.topic`, { token: alice.accessToken });
    assert.deepEqual(got.body, { topic: 'two' });
    const full = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.topic/`, { token: alice.accessToken, query: { format: 'event' } });
    assert.equal(full.body.event_id, r2.body.event_id);
    assert.deepEqual(full.body.unsigned.prev_content, { topic: 'one' });
    assert.equal(full.body.unsigned.replaces_state, r1.body.event_id);
    const custom = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/state/org.example.thing/${enc('some/key')}`, { token: alice.accessToken, body: { a: 1 } });
    assert.equal(custom.status, 200);
    const gotCustom = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/org.example.thing/${enc('some/key')}`, { token: alice.accessToken });
    assert.deepEqual(gotCustom.body, { a: 1 });
    const missing = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.avatar`, { token: alice.accessToken });
    assertError(missing, 404, 'M_NOT_FOUND');
  });

  test('state changes need power: a joined user at level 0 cannot rename the room', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    assert.equal((await api(server, 'POST', `${V3}/rooms/${enc(roomId)}/join`, { token: bob.accessToken, body: {} })).status, 200);
    const res = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/state/m.room.name`, { token: bob.accessToken, body: { name: 'mine' } });
    assertError(res, 403, 'M_FORBIDDEN');
    const msg = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/b1`, { token: bob.accessToken, body: { body: 'hi' } });
    assert.equal(msg.status, 200);
  });

  test('redaction: own events, others need power; redacted events lose content and show redacted_because', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await api(server, 'POST', `${V3}/rooms/${enc(roomId)}/join`, { token: bob.accessToken, body: {} });
    const aliceMsg = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/r1`, { token: alice.accessToken, body: { body: 'oops', msgtype: 'm.text' } });
    const denied = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/redact/${enc(aliceMsg.body.event_id)}/x1`, { token: bob.accessToken, body: {} });
    assertError(denied, 403, 'M_FORBIDDEN');
    const red = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/redact/${enc(aliceMsg.body.event_id)}/x2`, { token: alice.accessToken, body: { reason: 'typo' } });
    assert.equal(red.status, 200);
    const again = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/redact/${enc(aliceMsg.body.event_id)}/x2`, { token: alice.accessToken, body: { reason: 'typo' } });
    assert.equal(again.body.event_id, red.body.event_id);
    const ev = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/event/${enc(aliceMsg.body.event_id)}`, { token: bob.accessToken });
    assert.deepEqual(ev.body.content, {});
    assert.equal(ev.body.unsigned.redacted_because.event_id, red.body.event_id);
    assert.equal(ev.body.unsigned.redacted_because.content.reason, 'typo');
    const redEv = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/event/${enc(red.body.event_id)}`, { token: bob.accessToken });
    assert.equal(redEv.body.redacts, aliceMsg.body.event_id);
    assert.equal(redEv.body.content.redacts, aliceMsg.body.event_id);
  });
});
