/**
 * Rooms across three real server processes over TLS: joins by alias and via, messages and state
 * in every direction, remote invites in /sync, leaves, and identical state on all servers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, registerUser, type TestUser } from './harness/client.js';
import { type Federation, signedFedRequest, startFederation } from './harness/federation.js';
import { type TestServer, waitForLogs } from './harness/server.js';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function messages(server: TestServer, user: TestUser, roomId: string): Promise<string[]> {
  const res = await api(server, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`, {
    token: user.accessToken,
    query: { dir: 'b', limit: '50' },
  });
  if (res.status !== 200) return [];
  return (res.body.chunk as Array<{ type: string; content: { body?: string } }>)
    .filter((e) => e.type === 'm.room.message')
    .map((e) => e.content.body ?? '');
}

async function stateOf(server: TestServer, user: TestUser, roomId: string): Promise<string[]> {
  const res = await api(server, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state`, { token: user.accessToken });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as Array<{ event_id: string }>).map((e) => e.event_id).sort();
}

describe('rooms across three servers', () => {
  let fed: Federation;
  let hs1: TestServer;
  let hs2: TestServer;
  let hs3: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let roomId: string;

  before(async () => {
    fed = await startFederation(['hs1.test', 'hs2.test', 'hs3.test']);
    hs1 = fed.get('hs1.test').server;
    hs2 = fed.get('hs2.test').server;
    hs3 = fed.get('hs3.test').server;
    alice = await registerUser(hs1, 'alice');
    bob = await registerUser(hs2, 'bob');
    carol = await registerUser(hs3, 'carol');
  });
  after(async () => {
    await fed?.close();
  });

  test('hs2 joins by alias, hs3 by room ID and via; messages flow all ways', async () => {
    const created = await api(hs1, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat', room_alias_name: 'fedroom', name: 'Federated' },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id;
    await api(hs1, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t0`, {
      token: alice.accessToken,
      body: { msgtype: 'm.text', body: 'before anyone joined' },
    });

    const j2 = await api(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent('#fedroom:hs1.test')}`, { token: bob.accessToken, body: {} });
    assert.equal(j2.status, 200, JSON.stringify(j2.body));
    assert.equal(j2.body.room_id, roomId);
    const j3 = await api(hs3, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {
      token: carol.accessToken,
      body: {},
      query: { via: 'hs2.test' },
    });
    assert.equal(j3.status, 200, JSON.stringify(j3.body));
    // A server pushes an event only to the servers it knows are in the room: wait until hs1 knows
    // carol joined (an event hs1 sent before that reaches hs3 only once a later event cites it).
    await waitFor('carol’s join on hs1', async () => {
      const m = await api(hs1, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(carol.userId)}`, {
        token: alice.accessToken,
      });
      return m.body?.membership === 'join' ? true : undefined;
    });

    const sends: Array<[TestServer, TestUser, string]> = [
      [hs1, alice, 'from hs1'],
      [hs2, bob, 'from hs2'],
      [hs3, carol, 'from hs3'],
    ];
    for (const [s, u, body] of sends) {
      const r = await api(s, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${body.replace(/ /g, '')}`, {
        token: u.accessToken,
        body: { msgtype: 'm.text', body },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    for (const [s, u] of sends) {
      await waitFor(`all messages on ${s.serverName}`, async () => {
        const got = await messages(s, u, roomId);
        return ['from hs1', 'from hs2', 'from hs3'].every((b) => got.includes(b)) ? true : undefined;
      });
    }
  });

  test('typing and read receipts reach the other servers; a typing EDU for another server’s user is ignored', async () => {
    const typing = await api(hs2, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(bob.userId)}`, {
      token: bob.accessToken,
      body: { typing: true, timeout: 30_000 },
    });
    assert.equal(typing.status, 200, JSON.stringify(typing.body));
    const ephemeral = async (s: TestServer, u: TestUser, type: string) => {
      const r = await api(s, 'GET', '/_matrix/client/v3/sync', { token: u.accessToken, query: { timeout: '0' } });
      const events = (r.body.rooms?.join?.[roomId]?.ephemeral?.events ?? []) as Array<{ type: string; content: Record<string, unknown> }>;
      return events.find((e) => e.type === type)?.content;
    };
    for (const [s, u] of [
      [hs1, alice],
      [hs3, carol],
    ] as const) {
      await waitFor(`bob typing on ${s.serverName}`, async () => {
        const c = await ephemeral(s, u, 'm.typing');
        return (c?.user_ids as string[] | undefined)?.includes(bob.userId) ? true : undefined;
      });
    }

    const latest = await api(hs3, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`, {
      token: carol.accessToken,
      query: { dir: 'b', limit: '1' },
    });
    const readUpTo: string = latest.body.chunk[0].event_id;
    const receipt = await api(hs3, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(readUpTo)}`, {
      token: carol.accessToken,
      body: {},
    });
    assert.equal(receipt.status, 200, JSON.stringify(receipt.body));
    await waitFor('carol’s receipt on hs1', async () => {
      const c = (await ephemeral(hs1, alice, 'm.receipt')) as Record<string, Record<string, Record<string, unknown>>> | undefined;
      return c?.[readUpTo]?.['m.read']?.[carol.userId] ? true : undefined;
    });

    // hs1 claims to speak for bob (hs2's user): hs3 ignores it and says why.
    const body = { origin: 'hs1.test', origin_server_ts: Date.now(), pdus: [], edus: [{ edu_type: 'm.typing', content: { room_id: roomId, user_id: bob.userId, typing: false } }] };
    const forged = await signedFedRequest(fed, fed.get('hs1.test'), fed.get('hs3.test'), 'PUT', '/_matrix/federation/v1/send/typing-forged', body);
    assert.equal(forged.status, 200);
    assert.ok((await waitForLogs(hs3, (l) => l.msg === 'ignored an EDU' && l.eduType === 'm.typing' && String(l.reason).includes('does not belong to hs1.test'))).length > 0);
    const still = await ephemeral(hs3, carol, 'm.typing');
    assert.ok((still?.user_ids as string[] | undefined)?.includes(bob.userId), 'bob is still typing on hs3');
  });

  test('all three servers report the same current state', async () => {
    const topic = await api(hs1, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.topic/`, {
      token: alice.accessToken,
      body: { topic: 'set on hs1' },
    });
    assert.equal(topic.status, 200);
    const s1 = await stateOf(hs1, alice, roomId);
    await waitFor('identical state', async () => {
      const [a, b, c] = await Promise.all([stateOf(hs1, alice, roomId), stateOf(hs2, bob, roomId), stateOf(hs3, carol, roomId)]);
      return JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(b) === JSON.stringify(c) ? true : undefined;
    });
    assert.ok(s1.length >= 8);
  });

  test('a remote invite shows in /sync with stripped state; the invitee joins and then leaves', async () => {
    const dave = await registerUser(hs2, 'dave');
    const priv = await api(hs1, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'private_chat', name: 'Private' },
    });
    const privId: string = priv.body.room_id;
    const inv = await api(hs1, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/invite`, {
      token: alice.accessToken,
      body: { user_id: dave.userId },
    });
    assert.equal(inv.status, 200, JSON.stringify(inv.body));
    const sync = await api(hs2, 'GET', '/_matrix/client/v3/sync', { token: dave.accessToken });
    const invited = sync.body.rooms?.invite?.[privId];
    assert.ok(invited, JSON.stringify(sync.body.rooms));
    const names = (invited.invite_state.events as Array<{ type: string; content: { name?: string } }>).filter((e) => e.type === 'm.room.name');
    assert.equal(names[0]?.content.name, 'Private');

    const join = await api(hs2, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/join`, { token: dave.accessToken, body: {} });
    assert.equal(join.status, 200, JSON.stringify(join.body));
    const leave = await api(hs2, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/leave`, { token: dave.accessToken, body: {} });
    assert.equal(leave.status, 200, JSON.stringify(leave.body));
    await waitFor('the leave on hs1', async () => {
      const m = await api(hs1, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/state/m.room.member/${encodeURIComponent(dave.userId)}`, {
        token: alice.accessToken,
      });
      return m.body?.membership === 'leave' ? true : undefined;
    });
  });
  test('invites across servers: a remote invitee rejects; a remote member is kicked and sees it', async () => {
    const priv = await api(hs1, 'POST', '/_matrix/client/v3/createRoom', { token: alice.accessToken, body: { preset: 'private_chat', name: 'Invites' } });
    const privId: string = priv.body.room_id;
    for (const u of [carol, bob]) {
      const inv = await api(hs1, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/invite`, { token: alice.accessToken, body: { user_id: u.userId } });
      assert.equal(inv.status, 200, JSON.stringify(inv.body));
    }
    // carol (hs3) rejects: hs3 is not in the room, so the leave goes through make_leave/send_leave on hs1.
    const reject = await api(hs3, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/leave`, { token: carol.accessToken, body: {} });
    assert.equal(reject.status, 200, JSON.stringify(reject.body));
    const member = (s: TestServer, u: TestUser, who: string) =>
      api(s, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/state/m.room.member/${encodeURIComponent(who)}`, { token: u.accessToken });
    assert.equal((await member(hs1, alice, carol.userId)).body.membership, 'leave');
    const carolSync = await api(hs3, 'GET', '/_matrix/client/v3/sync', { token: carol.accessToken });
    assert.equal(carolSync.body.rooms?.invite?.[privId], undefined, 'the rejected invite is gone from /sync');

    // bob (hs2) joins, then alice kicks him: hs2 learns it over /send; bob's incremental /sync shows the room as left.
    const join = await api(hs2, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/join`, { token: bob.accessToken, body: {} });
    assert.equal(join.status, 200, JSON.stringify(join.body));
    const before = await api(hs2, 'GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
    const kick = await api(hs1, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(privId)}/kick`, {
      token: alice.accessToken,
      body: { user_id: bob.userId, reason: 'test over' },
    });
    assert.equal(kick.status, 200, JSON.stringify(kick.body));
    await waitFor('the kick on hs2', async () => {
      const s = await api(hs2, 'GET', '/_matrix/client/v3/sync', { token: bob.accessToken, query: { since: before.body.next_batch, timeout: '0' } });
      return s.body.rooms?.leave?.[privId] ? true : undefined;
    });
    const kicked = await member(hs2, bob, bob.userId);
    assert.equal(kicked.body.membership, 'leave');
    assert.equal(kicked.body.reason, 'test over');
  });

  test('a restricted room is joined through a server that can authorise the join', async () => {
    // Members of the first room (bob on hs2, carol on hs3) may join; erin on hs3 is in no such room.
    const created = await api(hs1, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: {
        preset: 'public_chat',
        name: 'Restricted',
        initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: roomId }] } }],
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const restrictedId: string = created.body.room_id;

    const bobJoin = await api(hs2, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(restrictedId)}`, { token: bob.accessToken, body: {}, query: { via: 'hs1.test' } });
    assert.equal(bobJoin.status, 200, JSON.stringify(bobJoin.body));

    // hs2 is now in the room but has no user who may invite, so it cannot authorise carol's join;
    // carol's server moves on to hs1, which can.
    const url = new URL(`/_matrix/client/v3/join/${encodeURIComponent(restrictedId)}`, hs3.baseUrl);
    url.searchParams.append('via', 'hs2.test');
    url.searchParams.append('via', 'hs1.test');
    const carolJoin = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${carol.accessToken}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(carolJoin.status, 200, await carolJoin.text());
    assert.ok(
      (await waitForLogs(hs3, (l) => l.msg === 'make_* failed; trying the next server' && l.server === 'hs2.test' && String(l.err).includes('may authorise joins'))).length > 0,
      'hs2 was asked first and could not authorise',
    );
    assert.ok((await waitForLogs(hs2, (l) => l.msg === 'request' && String(l.path).startsWith('/_matrix/federation/v1/make_join/') && l.status === 400)).length > 0);

    const m = await waitFor('carol’s join on hs2', async () => {
      const r = await api(hs2, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(restrictedId)}/state/m.room.member/${encodeURIComponent(carol.userId)}`, {
        token: bob.accessToken,
      });
      return r.body?.membership === 'join' ? r.body : undefined;
    });
    assert.equal(m.join_authorised_via_users_server, alice.userId);
    // The join carries the authorising server's signature next to carol's server's.
    const state = await api(hs2, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(restrictedId)}/state`, { token: bob.accessToken });
    const joinId = (state.body as Array<{ type: string; state_key: string; event_id: string }>).find(
      (e) => e.type === 'm.room.member' && e.state_key === carol.userId,
    )?.event_id;
    assert.ok(joinId);
    const pdu = await signedFedRequest(fed, fed.get('hs3.test'), fed.get('hs2.test'), 'GET', `/_matrix/federation/v1/event/${encodeURIComponent(joinId)}`);
    const signatures = (pdu.body.pdus as Array<{ signatures: Record<string, unknown> }>)[0].signatures;
    assert.ok(signatures['hs1.test'] && signatures['hs3.test'], JSON.stringify(signatures));

    const erin = await registerUser(hs3, 'erin');
    const refused = await api(hs3, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(restrictedId)}`, { token: erin.accessToken, body: {}, query: { via: 'hs1.test' } });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
  });

  test('room directory over federation: publicRooms?server= and the federation endpoints for devices and keys', async () => {
    const published = await api(hs1, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat', name: 'Listed on hs1', topic: 'find me', visibility: 'public' },
    });
    assert.equal(published.status, 200, JSON.stringify(published.body));
    const listedId: string = published.body.room_id;

    const viaGet = await api(hs3, 'GET', '/_matrix/client/v3/publicRooms', { token: carol.accessToken, query: { server: 'hs1.test' } });
    assert.equal(viaGet.status, 200, JSON.stringify(viaGet.body));
    const entry = (viaGet.body.chunk as Array<Record<string, unknown>>).find((r) => r.room_id === listedId);
    assert.equal(entry?.name, 'Listed on hs1');
    assert.equal(entry?.num_joined_members, 1);
    const viaPost = await api(hs3, 'POST', '/_matrix/client/v3/publicRooms', {
      token: carol.accessToken,
      query: { server: 'hs1.test' },
      body: { filter: { generic_search_term: 'nothing matches this' } },
    });
    assert.equal(viaPost.status, 200, JSON.stringify(viaPost.body));
    assert.deepEqual(viaPost.body.chunk, []);
    const found = await api(hs3, 'POST', '/_matrix/client/v3/publicRooms', { token: carol.accessToken, query: { server: 'hs1.test' }, body: { filter: { generic_search_term: 'FIND me' } } });
    assert.deepEqual((found.body.chunk as Array<{ room_id: string }>).map((r) => r.room_id), [listedId]);

    const hs1h = fed.get('hs1.test');
    const hs2h = fed.get('hs2.test');
    const devices = await signedFedRequest(fed, hs2h, hs1h, 'GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(alice.userId)}`);
    assert.equal(devices.status, 200, JSON.stringify(devices.body));
    // No end-to-end keys exist yet, and the spec requires keys for each listed device.
    assert.deepEqual(devices.body, { user_id: alice.userId, stream_id: 0, devices: [] });
    const notLocal = await signedFedRequest(fed, hs2h, hs1h, 'GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(bob.userId)}`);
    assert.equal(notLocal.status, 400);
    const query = await signedFedRequest(fed, hs2h, hs1h, 'POST', '/_matrix/federation/v1/user/keys/query', {
      device_keys: { [alice.userId]: [], [bob.userId]: [] },
    });
    assert.equal(query.status, 200, JSON.stringify(query.body));
    assert.deepEqual(query.body, { device_keys: { [alice.userId]: {} } });
    const claim = await signedFedRequest(fed, hs2h, hs1h, 'POST', '/_matrix/federation/v1/user/keys/claim', {
      one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } },
    });
    assert.equal(claim.status, 200, JSON.stringify(claim.body));
    assert.deepEqual(claim.body, { one_time_keys: {} });
  });
});
