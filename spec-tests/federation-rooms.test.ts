/**
 * Rooms across three real server processes over TLS: joins by alias and via, messages and state
 * in every direction, remote invites in /sync, leaves, and identical state on all servers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, registerUser, type TestUser } from './harness/client.js';
import { type Federation, startFederation } from './harness/federation.js';
import type { TestServer } from './harness/server.js';

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
});
