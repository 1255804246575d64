/** Joining, inviting, leaving, kicking, banning, knocking, forgetting; member lists. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { suiteServer } from './harness/suite.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

describe('rooms: membership', () => {
  // elsewhere.example points at a closed loopback port: remote rooms and users are unreachable
  // without any DNS lookup or traffic off this machine.
  const server = suiteServer({ config: { federation: { resolve: { 'elsewhere.example': '127.0.0.1:9' } } } });
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  before(async () => {
    alice = await registerUser(server);
    bob = await registerUser(server);
    carol = await registerUser(server);
  });

  const post = (user: TestUser, path: string, body: unknown = {}) => api(server, 'POST', `${V3}${path}`, { token: user.accessToken, body });
  const createRoom = async (user: TestUser, body: Record<string, unknown> = {}) => {
    const res = await post(user, '/createRoom', body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.room_id as string;
  };
  const membershipOf = async (viewer: TestUser, roomId: string, userId: string) => {
    const res = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`, { token: viewer.accessToken });
    return res.status === 200 ? res.body.membership : undefined;
  };

  test('join a public room by ID and by alias; joined_rooms and joined_members reflect it', async () => {
    const alias = `join${Date.now()}`;
    const roomId = await createRoom(alice, { preset: 'public_chat', room_alias_name: alias });
    const byId = await post(bob, `/rooms/${enc(roomId)}/join`);
    assert.deepEqual(byId.body, { room_id: roomId });
    const byAlias = await post(carol, `/join/${enc(`#${alias}:localhost`)}`);
    assert.deepEqual(byAlias.body, { room_id: roomId });
    const joined = await api(server, 'GET', `${V3}/joined_rooms`, { token: carol.accessToken });
    assert.ok(joined.body.joined_rooms.includes(roomId));
    const members = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/joined_members`, { token: alice.accessToken });
    assert.deepEqual(Object.keys(members.body.joined).sort(), [alice.userId, bob.userId, carol.userId].sort());
    assert.equal(members.body.joined[bob.userId].display_name, bob.localpart);
  });

  test('private rooms need an invite; invites can be rejected; leave works', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat' });
    assertError(await post(bob, `/rooms/${enc(roomId)}/join`), 403, 'M_FORBIDDEN');
    assert.equal((await post(alice, `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId, reason: 'hi' })).status, 200);
    assert.equal(await membershipOf(alice, roomId, bob.userId), 'invite');
    assertError(await post(alice, `/rooms/${enc(roomId)}/invite`, { user_id: 'not-a-user' }), 400, 'M_BAD_JSON');
    assert.equal((await post(bob, `/rooms/${enc(roomId)}/leave`)).status, 200);
    assert.equal(await membershipOf(alice, roomId, bob.userId), 'leave');
    await post(alice, `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId });
    assert.equal((await post(bob, `/join/${enc(roomId)}`)).status, 200);
    assertError(await post(alice, `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId }), 403, 'M_FORBIDDEN');
    assertError(await post(bob, `/rooms/${enc(roomId)}/invite`, { user_id: 'carol' }), 400, 'M_BAD_JSON');
  });

  test('createRoom invite list and is_direct', async () => {
    const roomId = await createRoom(alice, { invite: [bob.userId], is_direct: true, preset: 'trusted_private_chat' });
    const ev = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`, { token: alice.accessToken });
    assert.deepEqual(ev.body, { membership: 'invite', is_direct: true });
    const create = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.create`, { token: alice.accessToken });
    assert.deepEqual(create.body.additional_creators, [bob.userId]);
  });

  test('kick, ban and unban follow power levels and current membership', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await post(bob, `/rooms/${enc(roomId)}/join`);
    await post(carol, `/rooms/${enc(roomId)}/join`);
    assertError(await post(bob, `/rooms/${enc(roomId)}/kick`, { user_id: carol.userId }), 403, 'M_FORBIDDEN');
    assert.equal((await post(alice, `/rooms/${enc(roomId)}/kick`, { user_id: carol.userId, reason: 'bye' })).status, 200);
    const kicked = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(carol.userId)}`, { token: alice.accessToken });
    assert.deepEqual(kicked.body, { membership: 'leave', reason: 'bye' });
    assertError(await post(alice, `/rooms/${enc(roomId)}/kick`, { user_id: carol.userId }), 403, 'M_FORBIDDEN');
    assertError(await post(alice, `/rooms/${enc(roomId)}/unban`, { user_id: bob.userId }), 403, 'M_FORBIDDEN');
    assert.equal((await post(alice, `/rooms/${enc(roomId)}/ban`, { user_id: bob.userId })).status, 200);
    assert.equal(await membershipOf(alice, roomId, bob.userId), 'ban');
    assertError(await post(bob, `/rooms/${enc(roomId)}/join`), 403, 'M_FORBIDDEN');
    assert.equal((await post(alice, `/rooms/${enc(roomId)}/unban`, { user_id: bob.userId })).status, 200);
    assert.equal(await membershipOf(alice, roomId, bob.userId), 'leave');
    assert.equal((await post(bob, `/rooms/${enc(roomId)}/join`)).status, 200);
    assertError(await post(alice, `/rooms/${enc(roomId)}/kick`, { reason: 'no user' }), 400, 'M_MISSING_PARAM');
  });

  test('knock on a knock room, then get invited in', async () => {
    const roomId = await createRoom(alice, { initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }] });
    const knock = await post(bob, `/knock/${enc(roomId)}`, { reason: 'let me in' });
    assert.deepEqual(knock.body, { room_id: roomId });
    assert.equal(await membershipOf(alice, roomId, bob.userId), 'knock');
    assert.equal((await post(alice, `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId })).status, 200);
    assert.equal((await post(bob, `/rooms/${enc(roomId)}/join`)).status, 200);
    const invite = await createRoom(alice, { preset: 'private_chat' });
    assertError(await post(carol, `/knock/${enc(invite)}`), 403, 'M_FORBIDDEN');
  });

  test('forget only after leaving; unknown rooms; unreachable remote rooms and users', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await post(bob, `/rooms/${enc(roomId)}/join`);
    assertError(await post(bob, `/rooms/${enc(roomId)}/forget`), 400, 'M_UNKNOWN');
    await post(bob, `/rooms/${enc(roomId)}/leave`);
    assert.equal((await post(bob, `/rooms/${enc(roomId)}/forget`)).status, 200);
    assertError(await post(bob, `/rooms/${enc('!unknown:localhost')}/join`), 404, 'M_NOT_FOUND');
    assertError(await post(bob, `/join/${enc('#nope:localhost')}`), 404, 'M_NOT_FOUND');
    assertError(await post(bob, `/join/${enc('!room:elsewhere.example')}`), 502, 'M_UNKNOWN');
    assertError(await post(bob, `/join/${enc('garbage')}`), 400, 'M_INVALID_PARAM');
    assertError(await post(alice, `/rooms/${enc(roomId)}/invite`, { user_id: '@x:elsewhere.example' }), 502, 'M_UNKNOWN');
  });

  test('members: filters, and the state at leave for former members', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await post(bob, `/rooms/${enc(roomId)}/join`);
    await post(alice, `/rooms/${enc(roomId)}/invite`, { user_id: carol.userId });
    const all = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/members`, { token: alice.accessToken });
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.chunk.map((e: { state_key: string }) => e.state_key).sort(), [alice.userId, bob.userId, carol.userId].sort());
    const joined = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/members`, { token: alice.accessToken, query: { membership: 'join' } });
    assert.equal(joined.body.chunk.length, 2);
    const notJoined = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/members`, { token: alice.accessToken, query: { not_membership: 'join' } });
    assert.deepEqual(notJoined.body.chunk.map((e: { state_key: string }) => e.state_key), [carol.userId]);
    const bad = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/members`, { token: alice.accessToken, query: { membership: 'bogus' } });
    assertError(bad, 400, 'M_INVALID_PARAM');
    await post(bob, `/rooms/${enc(roomId)}/leave`);
    await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/state/m.room.name`, { token: alice.accessToken, body: { name: 'after bob left' } });
    const bobView = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state`, { token: bob.accessToken });
    assert.equal(bobView.status, 200);
    assert.equal(bobView.body.some((e: { type: string }) => e.type === 'm.room.name'), false);
    assertError(await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/joined_members`, { token: bob.accessToken }), 403, 'M_FORBIDDEN');
  });

  test('profile changes update member events in joined rooms; deactivation leaves rooms', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await post(bob, `/rooms/${enc(roomId)}/join`);
    const res = await api(server, 'PUT', `${V3}/profile/${enc(bob.userId)}/displayname`, { token: bob.accessToken, body: { displayname: 'Bobby' } });
    assert.equal(res.status, 200);
    const member = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`, { token: alice.accessToken });
    assert.deepEqual(member.body, { membership: 'join', displayname: 'Bobby' });

    const dave = await registerUser(server);
    await post(dave, `/rooms/${enc(roomId)}/join`);
    const deactivate = await post(dave, '/account/deactivate', {
      auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: dave.userId }, password: dave.password },
    });
    assert.equal(deactivate.status, 200, JSON.stringify(deactivate.body));
    assert.equal(await membershipOf(alice, roomId, dave.userId), 'leave');
  });
});
