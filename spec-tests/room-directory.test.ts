/** Aliases, the published room directory and /publicRooms over raw HTTP. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { createRoomAs } from './harness/room-helpers.js';
import { suiteServer } from './harness/suite.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

describe('rooms: aliases and directory', () => {
  const server = suiteServer();
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    alice = await registerUser(server);
    bob = await registerUser(server);
  });

  const createRoom = (user: TestUser, body: Record<string, unknown> = {}) => createRoomAs(server, user, body);

  test('alias lifecycle: create, resolve, list, conflict, delete permissions, delete', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const alias = `#lobby${Date.now()}:localhost`;
    const put = await api(server, 'PUT', `${V3}/directory/room/${enc(alias)}`, { token: alice.accessToken, body: { room_id: roomId } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, {});
    const again = await api(server, 'PUT', `${V3}/directory/room/${enc(alias)}`, { token: alice.accessToken, body: { room_id: roomId } });
    assertError(again, 409, 'M_UNKNOWN');
    const got = await api(server, 'GET', `${V3}/directory/room/${enc(alias)}`);
    assert.deepEqual(got.body, { room_id: roomId, servers: ['localhost'] });
    const listed = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/aliases`, { token: alice.accessToken });
    assert.deepEqual(listed.body, { aliases: [alias] });
    assertError(await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/aliases`, { token: bob.accessToken }), 403, 'M_FORBIDDEN');
    assertError(await api(server, 'DELETE', `${V3}/directory/room/${enc(alias)}`, { token: bob.accessToken }), 403, 'M_FORBIDDEN');
    assert.equal((await api(server, 'DELETE', `${V3}/directory/room/${enc(alias)}`, { token: alice.accessToken })).status, 200);
    assertError(await api(server, 'GET', `${V3}/directory/room/${enc(alias)}`), 404, 'M_NOT_FOUND');
    assertError(await api(server, 'DELETE', `${V3}/directory/room/${enc(alias)}`, { token: alice.accessToken }), 404, 'M_NOT_FOUND');
  });

  test('alias errors: bad grammar, other servers, unknown rooms', async () => {
    const roomId = await createRoom(alice);
    const bad = await api(server, 'PUT', `${V3}/directory/room/${enc('nohash:localhost')}`, { token: alice.accessToken, body: { room_id: roomId } });
    assertError(bad, 400, 'M_INVALID_PARAM');
    const remote = await api(server, 'PUT', `${V3}/directory/room/${enc('#x:elsewhere.example')}`, { token: alice.accessToken, body: { room_id: roomId } });
    assertError(remote, 400, 'M_INVALID_PARAM');
    const unknown = await api(server, 'PUT', `${V3}/directory/room/${enc('#y:localhost')}`, { token: alice.accessToken, body: { room_id: '!nope:localhost' } });
    assertError(unknown, 404, 'M_NOT_FOUND');
    const missing = await api(server, 'PUT', `${V3}/directory/room/${enc('#z:localhost')}`, { token: alice.accessToken, body: {} });
    assertError(missing, 400, 'M_MISSING_PARAM');
  });

  test('canonical alias must point at the room', async () => {
    const roomId = await createRoom(alice);
    const other = await createRoom(alice);
    const alias = `#canon${Date.now()}:localhost`;
    await api(server, 'PUT', `${V3}/directory/room/${enc(alias)}`, { token: alice.accessToken, body: { room_id: other } });
    const res = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/state/m.room.canonical_alias`, { token: alice.accessToken, body: { alias } });
    assertError(res, 400, 'M_BAD_ALIAS');
    const ok = await api(server, 'PUT', `${V3}/rooms/${enc(other)}/state/m.room.canonical_alias`, { token: alice.accessToken, body: { alias } });
    assert.equal(ok.status, 200);
  });

  test('directory visibility: default private, createRoom visibility public, PUT needs power', async () => {
    const hidden = await createRoom(alice, { name: 'Hidden' });
    const shown = await createRoom(alice, { visibility: 'public', name: `Shown ${Date.now()}`, topic: 'a searchable topic' });
    assert.deepEqual((await api(server, 'GET', `${V3}/directory/list/room/${enc(hidden)}`)).body, { visibility: 'private' });
    assert.deepEqual((await api(server, 'GET', `${V3}/directory/list/room/${enc(shown)}`)).body, { visibility: 'public' });
    assertError(await api(server, 'GET', `${V3}/directory/list/room/${enc('!nope:localhost')}`), 404, 'M_NOT_FOUND');
    const denied = await api(server, 'PUT', `${V3}/directory/list/room/${enc(hidden)}`, { token: bob.accessToken, body: { visibility: 'public' } });
    assertError(denied, 403, 'M_FORBIDDEN');
    const bad = await api(server, 'PUT', `${V3}/directory/list/room/${enc(hidden)}`, { token: alice.accessToken, body: { visibility: 'everyone' } });
    assertError(bad, 400, 'M_BAD_JSON');

    const list = await api(server, 'GET', `${V3}/publicRooms`);
    assert.equal(list.status, 200);
    const entry = list.body.chunk.find((r: { room_id: string }) => r.room_id === shown);
    assert.ok(entry);
    assert.equal(entry.num_joined_members, 1);
    assert.equal(entry.topic, 'a searchable topic');
    assert.equal(entry.world_readable, false);
    assert.equal(entry.guest_can_join, false);
    assert.equal(entry.join_rule, 'public');
    assert.equal(list.body.chunk.some((r: { room_id: string }) => r.room_id === hidden), false);

    assert.equal((await api(server, 'PUT', `${V3}/directory/list/room/${enc(hidden)}`, { token: alice.accessToken, body: { visibility: 'public' } })).status, 200);
    const after = await api(server, 'GET', `${V3}/publicRooms`);
    assert.ok(after.body.chunk.some((r: { room_id: string }) => r.room_id === hidden));
  });

  test('publicRooms: paging with since/limit, POST search, larger rooms first', async () => {
    const tag = `zq${Date.now()}`;
    const big = await createRoom(alice, { preset: 'public_chat', visibility: 'public', name: `${tag} big` });
    await api(server, 'POST', `${V3}/rooms/${enc(big)}/join`, { token: bob.accessToken, body: {} });
    for (let i = 0; i < 2; i++) await createRoom(alice, { preset: 'public_chat', visibility: 'public', name: `${tag} small ${i}` });

    const search = await api(server, 'POST', `${V3}/publicRooms`, { token: alice.accessToken, body: { filter: { generic_search_term: tag.toUpperCase() } } });
    assert.equal(search.status, 200);
    assert.equal(search.body.chunk.length, 3);
    assert.equal(search.body.chunk[0].room_id, big);
    assert.equal(search.body.total_room_count_estimate, 3);

    const p1 = await api(server, 'POST', `${V3}/publicRooms`, { token: alice.accessToken, body: { limit: 2, filter: { generic_search_term: tag } } });
    assert.equal(p1.body.chunk.length, 2);
    assert.equal(typeof p1.body.next_batch, 'string');
    const p2 = await api(server, 'POST', `${V3}/publicRooms`, { token: alice.accessToken, body: { limit: 2, since: p1.body.next_batch, filter: { generic_search_term: tag } } });
    assert.equal(p2.body.chunk.length, 1);
    assert.equal(p2.body.next_batch, undefined);
    assert.equal(typeof p2.body.prev_batch, 'string');

    const getPaged = await api(server, 'GET', `${V3}/publicRooms`, { query: { limit: '1' } });
    assert.equal(getPaged.body.chunk.length, 1);
    assertError(await api(server, 'GET', `${V3}/publicRooms`, { query: { since: 'garbage' } }), 400, 'M_INVALID_PARAM');
    assertError(await api(server, 'GET', `${V3}/publicRooms`, { query: { limit: 'x' } }), 400, 'M_INVALID_PARAM');
    assertError(await api(server, 'POST', `${V3}/publicRooms`, { body: {} }), 401, 'M_MISSING_TOKEN');
  });
});
