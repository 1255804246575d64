/** PUT /sendToDevice and to_device in /sync: idempotent sends, exactly-once delivery per device, batching. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, login, registerUser, type TestUser } from './harness/client.js';
import { suiteServer } from './harness/suite.js';
import { syncOnce, syncUntil, tokenPositions } from './harness/sync-wait.js';

const V3 = '/_matrix/client/v3';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

describe('send-to-device', () => {
  const server = suiteServer();
  let txn = 0;

  const sendTo = (from: TestUser, type: string, messages: unknown, txnId = `tx${++txn}`) =>
    api(server, 'PUT', `${V3}/sendToDevice/${encodeURIComponent(type)}/${txnId}`, { token: from.accessToken, body: { messages } });
  const secondDevice = async (user: TestUser): Promise<TestUser> => {
    const res = await login(server, user.localpart, user.password);
    assert.equal(res.status, 200);
    return { ...user, accessToken: res.body.access_token, deviceId: res.body.device_id };
  };
  const toDevice = (body: Json): Json[] => body.to_device?.events ?? [];

  test('a long poll wakes with the message; it repeats until the device syncs past it, then never again', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const t0 = (await syncOnce(server, alice)).next_batch;

    const polling = syncUntil(server, alice, t0, (b) => toDevice(b).length > 0, 'to-device message');
    const sent = await sendTo(bob, 'm.test', { [alice.userId]: { [alice.deviceId]: { n: 1 } } });
    assert.equal(sent.status, 200);
    assert.deepEqual(sent.body, {});
    const got = await polling;
    assert.deepEqual(toDevice(got), [{ type: 'm.test', sender: bob.userId, content: { n: 1 } }]);
    assert.ok(tokenPositions(got.next_batch).toDevice > tokenPositions(t0).toDevice);

    // The client lost that response and retries with the old token: delivered again.
    const retry = await syncOnce(server, alice, { since: t0 });
    assert.deepEqual(toDevice(retry), toDevice(got));
    // It moves on: gone, and also gone for a later retry from before it (acknowledged, deleted).
    const next = await syncOnce(server, alice, { since: retry.next_batch });
    assert.deepEqual(toDevice(next), []);
    const late = await syncOnce(server, alice, { since: t0 });
    assert.deepEqual(toDevice(late), [], 'acknowledged messages are deleted');
    const initial = await syncOnce(server, alice);
    assert.deepEqual(toDevice(initial), []);
  });

  test('device targeting: one device, every device (*), unknown devices dropped', async () => {
    const alice = await registerUser(server);
    const alice2 = await secondDevice(alice);
    const bob = await registerUser(server);
    const s1 = (await syncOnce(server, alice)).next_batch;
    const s2 = (await syncOnce(server, alice2)).next_batch;
    assert.equal((await sendTo(bob, 'm.one', { [alice.userId]: { [alice2.deviceId]: { only: 2 }, NOPE: { x: 1 } } })).status, 200);
    assert.equal((await sendTo(bob, 'm.all', { [alice.userId]: { '*': { all: true } } })).status, 200);
    const d1 = await syncUntil(server, alice, s1, (b) => toDevice(b).length > 0, 'device 1');
    assert.deepEqual(toDevice(d1).map((e: Json) => e.type), ['m.all']);
    const d2 = await syncUntil(server, alice2, s2, (b) => toDevice(b).length >= 2, 'device 2');
    assert.deepEqual(toDevice(d2).map((e: Json) => e.type), ['m.one', 'm.all'], 'in send order');
  });

  test('the same transaction ID from the same device is sent once; from another device or for another event type it is a new send', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const bob2 = await secondDevice(bob);
    const start = (await syncOnce(server, alice)).next_batch;
    const msg = { [alice.userId]: { [alice.deviceId]: { hello: 1 } } };
    assert.equal((await sendTo(bob, 'm.dup', msg, 'same')).status, 200);
    assert.equal((await sendTo(bob, 'm.dup', msg, 'same')).status, 200);
    assert.equal((await sendTo(bob2, 'm.dup', msg, 'same')).status, 200);
    // The transaction ID is scoped to the path, which includes the event type.
    assert.equal((await sendTo(bob, 'm.other', msg, 'same')).status, 200);
    const got = await syncUntil(server, alice, start, (b) => toDevice(b).length >= 3, 'three messages');
    assert.deepEqual(toDevice(got).map((e: Json) => e.type).sort(), ['m.dup', 'm.dup', 'm.other']);
    const after = await syncOnce(server, alice, { since: got.next_batch });
    assert.deepEqual(toDevice(after), []);
  });

  test('more than one batch: 150 messages arrive over two syncs, in order, each once', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    let token = (await syncOnce(server, alice)).next_batch;
    for (let i = 0; i < 3; i++) {
      const msgs: Record<string, unknown> = {};
      // One request carries one message per device; send 50 requests' worth as separate sends.
      for (let j = 0; j < 50; j++) {
        msgs[alice.userId] = { [alice.deviceId]: { i: i * 50 + j } };
        assert.equal((await sendTo(bob, 'm.seq', msgs)).status, 200);
      }
    }
    const seen: number[] = [];
    let rounds = 0;
    while (seen.length < 150) {
      const body = await syncOnce(server, alice, { since: token, timeout: '1000' });
      const batch = toDevice(body);
      assert.ok(batch.length <= 100, 'batched');
      seen.push(...batch.map((e: Json) => e.content.i));
      token = body.next_batch;
      assert.ok(++rounds <= 5, 'terminates');
    }
    assert.ok(rounds >= 2, 'took more than one sync');
    assert.deepEqual(seen, Array.from({ length: 150 }, (_, i) => i));
    assert.deepEqual(toDevice(await syncOnce(server, alice, { since: token })), []);
  });

  test('errors', async () => {
    const alice = await registerUser(server);
    assertError(await api(server, 'PUT', `${V3}/sendToDevice/m.x/t1`, { token: alice.accessToken, body: {} }), 400, 'M_MISSING_PARAM');
    assertError(await sendTo(alice, 'm.x', 'nope'), 400, 'M_BAD_JSON');
    assertError(await sendTo(alice, 'm.x', { 'not-a-user': { D: {} } }), 400, 'M_BAD_JSON');
    assertError(await sendTo(alice, 'm.x', { [alice.userId]: { D: 'not an object' } }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'PUT', `${V3}/sendToDevice/m.x/t2`, { body: { messages: {} } }), 401, 'M_MISSING_TOKEN');
    assert.equal((await sendTo(alice, 'm.x', { [`@nobody:${server.serverName}`]: { D: {} } })).status, 200, 'unknown users are dropped');
  });
});
