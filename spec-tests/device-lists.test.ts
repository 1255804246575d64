/** device_lists.changed / left in incremental syncs: device changes of users sharing a room, joins and leaves. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, login, registerUser, type TestUser } from './harness/client.js';
import { suiteServer } from './harness/suite.js';
import { syncOnce, syncUntil, tokenPositions } from './harness/sync-wait.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

describe('device lists', () => {
  const server = suiteServer();

  const ok = async (user: TestUser, method: string, path: string, body: unknown = {}): Promise<Json> => {
    const res = await api(server, method, `${V3}${path}`, { token: user.accessToken, body });
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const changed = (b: Json): string[] => b.device_lists?.changed ?? [];
  const left = (b: Json): string[] => b.device_lists?.left ?? [];

  test('new logins, renames and deletions of a room member; joins and leaves; strangers never', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const carol = await registerUser(server);
    const { room_id: roomId } = await ok(alice, 'POST', '/createRoom', { preset: 'public_chat' });
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    const initial = await syncOnce(server, bob);
    assert.deepEqual(initial.device_lists, { changed: [], left: [] }, 'initial syncs carry no device-list changes');
    assert.deepEqual(initial.device_one_time_keys_count, {});

    // A stranger's new device is not bob's business; alice's new device is.
    assert.equal((await login(server, carol.localpart, carol.password)).status, 200);
    const aliceLogin = await login(server, alice.localpart, alice.password);
    assert.equal(aliceLogin.status, 200);
    const seen: Json[] = [];
    const afterLogin = await syncUntil(server, bob, initial.next_batch, (b) => {
      seen.push(b);
      return changed(b).includes(alice.userId);
    }, 'alice login');
    assert.ok(seen.every((b) => !changed(b).includes(carol.userId)), 'carol shares no room with bob');
    assert.ok(tokenPositions(afterLogin.next_batch).deviceLists > tokenPositions(initial.next_batch).deviceLists);

    // Alice sees her own change too.
    const aliceInitial = await syncOnce(server, alice);
    await ok(alice, 'PUT', `/devices/${enc(aliceLogin.body.device_id)}`, { display_name: 'phone' });
    await syncUntil(server, alice, aliceInitial.next_batch, (b) => changed(b).includes(alice.userId), 'own rename');
    const afterRename = await syncUntil(server, bob, afterLogin.next_batch, (b) => changed(b).includes(alice.userId), 'rename');

    // Deleting a device (UIA with the password).
    const del = await api(server, 'POST', `${V3}/delete_devices`, {
      token: alice.accessToken,
      body: {
        devices: [aliceLogin.body.device_id],
        auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: alice.localpart }, password: alice.password },
      },
    });
    if (del.status === 401) {
      const retry = await api(server, 'POST', `${V3}/delete_devices`, {
        token: alice.accessToken,
        body: {
          devices: [aliceLogin.body.device_id],
          auth: {
            type: 'm.login.password',
            session: del.body.session,
            identifier: { type: 'm.id.user', user: alice.localpart },
            password: alice.password,
          },
        },
      });
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
    } else {
      assert.equal(del.status, 200, JSON.stringify(del.body));
    }
    const afterDelete = await syncUntil(server, bob, afterRename.next_batch, (b) => changed(b).includes(alice.userId), 'deletion');

    // Carol joins: now bob must track her devices. Then she leaves: bob stops.
    await ok(carol, 'POST', `/rooms/${enc(roomId)}/join`);
    const joined = await syncUntil(server, bob, afterDelete.next_batch, (b) => changed(b).includes(carol.userId), 'carol joins');
    assert.ok(!left(joined).includes(carol.userId));
    await ok(carol, 'POST', `/rooms/${enc(roomId)}/leave`);
    const gone = await syncUntil(server, bob, joined.next_batch, (b) => left(b).includes(carol.userId), 'carol leaves');
    assert.ok(!changed(gone).includes(carol.userId));

    // Bob joining a room with dave makes dave "changed" for bob.
    const dave = await registerUser(server);
    const { room_id: daveRoom } = await ok(dave, 'POST', '/createRoom', { preset: 'public_chat' });
    await ok(bob, 'POST', `/rooms/${enc(daveRoom)}/join`);
    const withDave = await syncUntil(server, bob, gone.next_batch, (b) => changed(b).includes(dave.userId), 'bob joins dave');
    await ok(bob, 'POST', `/rooms/${enc(daveRoom)}/leave`);
    await syncUntil(server, bob, withDave.next_batch, (b) => left(b).includes(dave.userId), 'bob leaves dave');
  });
});
