/**
 * The first contact between two servers is an invite: alice on hs1 invites bob on hs2 into a
 * private room neither server shares with the other, bob joins through make_join/send_join on hs1,
 * both servers see him joined and messages cross in both directions. hs1 has never fetched hs2's
 * key when hs2's first requests (make_join and two room directory queries) arrive: one that comes
 * while that fetch is under way must wait for it, not take it for a failed lookup (the 401
 * "unknown key … for hs2.test" that made the federated call test avoid invites; the exact
 * interleavings are pinned down in test/federation/server-key-ring.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, type TestUser } from './harness/client.js';
import { type Federation, startPair } from './harness/federation.js';
import { createRoomAs, messageBodies, sendText, waitFor } from './harness/room-helpers.js';
import type { TestServer } from './harness/server.js';

const enc = encodeURIComponent;

async function membership(server: TestServer, viewer: TestUser, roomId: string, userId: string): Promise<string | undefined> {
  const r = await api(server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`, { token: viewer.accessToken });
  return r.status === 200 ? r.body.membership : undefined;
}

describe('a remote invite as the first contact between two servers', () => {
  let fed: Federation;
  let hs1: TestServer;
  let hs2: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    ({ fed, hs1, hs2, alice, bob } = await startPair());
  });
  after(async () => {
    await fed?.close();
  });

  test('alice (hs1) invites bob (hs2), bob joins, both see it, messages flow both ways', async () => {
    const roomId = await createRoomAs(hs1, alice, { preset: 'trusted_private_chat', is_direct: true, invite: [bob.userId] });
    const invited = await waitFor('the invite in bob’s /sync', async () => {
      const s = await api(hs2, 'GET', '/_matrix/client/v3/sync', { token: bob.accessToken });
      return s.body.rooms?.invite?.[roomId];
    });
    assert.ok(Array.isArray(invited.invite_state.events));

    // As a client does on an invite: browse the inviter's server while joining. hs1 now gets several
    // requests from hs2 at once, each signed with a key it has never fetched.
    const [join, listed, searched] = await Promise.all([
      api(hs2, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: bob.accessToken, body: {} }),
      api(hs2, 'GET', '/_matrix/client/v3/publicRooms', { token: bob.accessToken, query: { server: 'hs1.test' } }),
      api(hs2, 'POST', '/_matrix/client/v3/publicRooms', { token: bob.accessToken, query: { server: 'hs1.test' }, body: { filter: { generic_search_term: 'x' } } }),
    ]);
    assert.equal(join.status, 200, JSON.stringify(join.body));
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(searched.status, 200, JSON.stringify(searched.body));
    assert.equal(join.body.room_id, roomId);

    assert.equal(await membership(hs2, bob, roomId, bob.userId), 'join');
    await waitFor('bob joined on hs1', async () => ((await membership(hs1, alice, roomId, bob.userId)) === 'join' ? true : undefined));

    await sendText(hs1, alice, roomId, 'hello from hs1');
    await sendText(hs2, bob, roomId, 'hello from hs2');
    for (const [server, user] of [[hs1, alice], [hs2, bob]] as const) {
      await waitFor(`both messages on ${server.serverName}`, async () => {
        const bodies = await messageBodies(server, user, roomId);
        return bodies.includes('hello from hs1') && bodies.includes('hello from hs2') ? true : undefined;
      });
    }
  });
});
