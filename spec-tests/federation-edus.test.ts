/**
 * The per-user EDUs between two real server processes: presence reaches a remote user who shares
 * a room (and nobody else), to-device messages land exactly once however often they arrive,
 * device-list changes show in the remote user's /sync (with a resync on a gap in the chain), and
 * EDUs that speak for another server's user are ignored with a log line.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, login, registerUser, type TestUser } from './harness/client.js';
import { type Federation, signedFedRequest, startPair } from './harness/federation.js';
import { createRoomAs } from './harness/room-helpers.js';
import { type TestServer, waitForLogs } from './harness/server.js';
import { syncOnce, syncUntil } from './harness/sync-wait.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;
// Watchers poll as offline so that their own syncs are not presence changes of theirs.
const quiet = { query: { set_presence: 'offline' } };

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

const presenceOf = (body: Json, userId: string): Json | undefined =>
  (body.presence?.events ?? []).filter((e: Json) => e.type === 'm.presence' && e.sender === userId).at(-1)?.content;
const toDevice = (body: Json, type: string): Json[] => (body.to_device?.events ?? []).filter((e: Json) => e.type === type);
const changed = (body: Json): string[] => body.device_lists?.changed ?? [];

describe('EDUs between two servers', () => {
  let fed: Federation;
  let hs1: TestServer;
  let hs2: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let dave: TestUser;
  let roomId: string;
  let txn = 0;

  /** A transaction from hs1 to hs2 carrying the EDUs, signed with hs1's key. */
  const fromHs1 = async (txnId: string, edus: Json[]) => {
    const body = { origin: 'hs1.test', origin_server_ts: Date.now(), pdus: [], edus };
    const res = await signedFedRequest(fed, fed.get('hs1.test'), fed.get('hs2.test'), 'PUT', `/_matrix/federation/v1/send/${enc(txnId)}`, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };
  const ignored = (eduType: string, reason: string) =>
    waitForLogs(hs2, (l) => l.msg === 'ignored an EDU' && l.eduType === eduType && String(l.reason).includes(reason));

  before(async () => {
    ({ fed, hs1, hs2, alice, bob } = await startPair());
    dave = await registerUser(hs2, 'dave');
    roomId = await createRoomAs(hs1, alice, { preset: 'public_chat' });
    const j = await api(hs2, 'POST', `${V3}/join/${enc(roomId)}`, { token: bob.accessToken, body: {}, query: { server_name: 'hs1.test' } });
    assert.equal(j.status, 200, JSON.stringify(j.body));
  });
  after(async () => {
    await fed?.close();
  });

  test('presence set on hs1 reaches bob on hs2, who shares a room, and not dave, who shares none', async () => {
    const bobSince = (await syncOnce(hs2, bob, quiet.query)).next_batch;
    const daveSince = (await syncOnce(hs2, dave, quiet.query)).next_batch;
    const put = await api(hs1, 'PUT', `${V3}/presence/${enc(alice.userId)}/status`, {
      token: alice.accessToken,
      body: { presence: 'online', status_msg: 'on hs1' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    const seen = await syncUntil(hs2, bob, bobSince, (b) => presenceOf(b, alice.userId)?.status_msg === 'on hs1', 'alice presence on hs2', quiet);
    const p = presenceOf(seen, alice.userId);
    assert.equal(p.presence, 'online');
    assert.equal(p.currently_active, true);
    assert.equal(typeof p.last_active_ago, 'number');
    const status = await api(hs2, 'GET', `${V3}/presence/${enc(alice.userId)}/status`, { token: bob.accessToken });
    assert.equal(status.body.presence, 'online');

    // The EDU has been applied on hs2 (bob saw it): dave's stream has nothing of alice.
    const daveSync = await syncOnce(hs2, dave, { ...quiet.query, since: daveSince, timeout: '0' });
    assert.equal(presenceOf(daveSync, alice.userId), undefined);

    // hs1 may not speak for a user of another server.
    await fromHs1('presence-forged', [
      { edu_type: 'm.presence', content: { push: [{ user_id: dave.userId, presence: 'online', last_active_ago: 0, status_msg: 'forged' }] } },
    ]);
    await ignored('m.presence', `${dave.userId} does not belong to hs1.test`);
    const daveStatus = await api(hs2, 'GET', `${V3}/presence/${enc(dave.userId)}/status`, { token: dave.accessToken });
    assert.notEqual(daveStatus.body.status_msg, 'forged');
  });

  test('a to-device message from hs1 reaches bob’s device exactly once, also when its transaction or EDU is repeated', async () => {
    const since = (await syncOnce(hs2, bob, quiet.query)).next_batch;
    const sent = await api(hs1, 'PUT', `${V3}/sendToDevice/m.test/t${++txn}`, {
      token: alice.accessToken,
      body: { messages: { [bob.userId]: { [bob.deviceId]: { n: 1 } } } },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const got = await syncUntil(hs2, bob, since, (b) => toDevice(b, 'm.test').length > 0, 'to-device from hs1', quiet);
    assert.deepEqual(toDevice(got, 'm.test'), [{ type: 'm.test', sender: alice.userId, content: { n: 1 } }]);

    // The same EDU in a retried transaction (same ID) and in a new one.
    const edu = {
      edu_type: 'm.direct_to_device',
      content: { sender: alice.userId, type: 'm.test', message_id: `dup-${process.pid}`, messages: { [bob.userId]: { '*': { n: 2 } } } },
    };
    await fromHs1('td-1', [edu]);
    await fromHs1('td-1', [edu]);
    await fromHs1('td-2', [edu]);
    await waitForLogs(hs2, (l) => l.msg === 'to-device message already received; ignored the repeat' && l.messageId === `dup-${process.pid}`);
    // A sender of another server is refused.
    await fromHs1('td-forged', [
      { edu_type: 'm.direct_to_device', content: { sender: dave.userId, type: 'm.test', message_id: 'forged', messages: { [bob.userId]: { '*': { n: 3 } } } } },
    ]);
    await ignored('m.direct_to_device', `${dave.userId} does not belong to hs1.test`);

    // Everything after `since` that the device has not acknowledged, read again from the same token.
    const again = await syncOnce(hs2, bob, { ...quiet.query, since, timeout: '0' });
    assert.deepEqual(
      toDevice(again, 'm.test').map((e) => e.content.n),
      [1, 2],
    );
  });

  test('devices added and deleted on hs1 show in bob’s device_lists.changed; a gap in the chain makes hs2 resync', async () => {
    let since = (await syncOnce(hs2, bob, quiet.query)).next_batch;
    const resyncs = () => hs2.logs().filter((l) => l.msg === 'resyncing a remote device list' && l.userId === alice.userId);

    const second = await login(hs1, alice.localpart, alice.password, { device_id: 'PHONE' });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    let s = await syncUntil(hs2, bob, since, (b) => changed(b).includes(alice.userId), 'new device on hs1', quiet);
    // Nothing was cached for alice on hs2: the first update makes it fetch her device list.
    await waitForLogs(hs2, (l) => l.msg === 'resyncing a remote device list' && l.reason === 'not cached');
    since = s.next_batch;

    const out = await api(hs1, 'POST', `${V3}/logout`, { token: second.body.access_token, body: {} });
    assert.equal(out.status, 200);
    s = await syncUntil(hs2, bob, since, (b) => changed(b).includes(alice.userId), 'deleted device on hs1', quiet);
    since = s.next_batch;
    assert.equal(resyncs().length, 1, 'the deletion continued the chain without a resync');

    // An update whose prev_id hs2 never saw: hs2 fetches the list again.
    await fromHs1('dl-gap', [
      { edu_type: 'm.device_list_update', content: { user_id: alice.userId, device_id: 'GHOST', stream_id: 1_000_000, prev_id: [999_999] } },
    ]);
    await waitForLogs(hs2, (l) => l.msg === 'resyncing a remote device list' && l.reason === 'gap in prev_id');
    s = await syncUntil(hs2, bob, since, (b) => changed(b).includes(alice.userId), 'device list after the resync', quiet);
    since = s.next_batch;

    // A cross-signing key update of alice also shows as a device-list change.
    const master = { user_id: alice.userId, usage: ['master'], keys: { 'ed25519:base64key': 'base64key' } };
    await fromHs1('sk-1', [{ edu_type: 'm.signing_key_update', content: { user_id: alice.userId, master_key: master } }]);
    await syncUntil(hs2, bob, since, (b) => changed(b).includes(alice.userId), 'signing key update', quiet);

    // Updates for a user of another server are refused.
    await fromHs1('dl-forged', [
      { edu_type: 'm.device_list_update', content: { user_id: dave.userId, device_id: 'X', stream_id: 1, prev_id: [] } },
      { edu_type: 'm.signing_key_update', content: { user_id: dave.userId, master_key: { ...master, user_id: dave.userId } } },
    ]);
    await ignored('m.device_list_update', `${dave.userId} does not belong to hs1.test`);
    await ignored('m.signing_key_update', `${dave.userId} does not belong to hs1.test`);
  });

  test('user/devices serves the stream position that the updates continue from', async () => {
    const res = await signedFedRequest(fed, fed.get('hs2.test'), fed.get('hs1.test'), 'GET', `/_matrix/federation/v1/user/devices/${enc(alice.userId)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, alice.userId);
    assert.ok((res.body.stream_id as number) > 0, JSON.stringify(res.body));
  });

  test('when alice leaves the only shared room, bob sees her in device_lists.left', async () => {
    const since = (await syncOnce(hs2, bob, quiet.query)).next_batch;
    const left = await api(hs1, 'POST', `${V3}/rooms/${enc(roomId)}/leave`, { token: alice.accessToken, body: {} });
    assert.equal(left.status, 200, JSON.stringify(left.body));
    const s = await syncUntil(hs2, bob, since, (b) => (b.device_lists?.left ?? []).includes(alice.userId), 'alice in device_lists.left', quiet);
    assert.ok(!changed(s).includes(alice.userId));
  });
});
