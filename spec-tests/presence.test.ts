/**
 * Presence over the public API: GET/PUT /presence, delivery in /sync only to users sharing a room,
 * and the aggregation over a user's devices (long polls with set_presence) with short, configured
 * idle and offline timeouts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, login, registerUser, type TestUser } from './harness/client.js';
import type { TestServer } from './harness/server.js';
import { suiteServer } from './harness/suite.js';
import { syncOnce, syncUntil, tokenPositions } from './harness/sync-wait.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

/** A device that keeps long-polling /sync (a live connection) until stopped. */
function pollLoop(server: TestServer, user: TestUser, setPresence: () => string) {
  let running = true;
  let polls = 0;
  const done = (async () => {
    let since: string | undefined;
    while (running) {
      const query: Record<string, string> = { timeout: '100', set_presence: setPresence() };
      if (since) query.since = since;
      const body = await syncOnce(server, user, query);
      since = body.next_batch;
      polls++;
    }
  })();
  return {
    polls: () => polls,
    /** Resolves after at least one more poll has completed (so a changed set_presence took effect). */
    async nextPoll(deadlineMs = 5000) {
      const target = polls + 2;
      const deadline = Date.now() + deadlineMs;
      while (polls < target) {
        assert.ok(Date.now() < deadline, 'poll loop stalled');
        await new Promise((r) => setImmediate(r));
      }
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

const presenceOf = (body: Json, userId: string): Json | undefined =>
  (body.presence?.events ?? []).filter((e: Json) => e.type === 'm.presence' && e.sender === userId).at(-1)?.content;

async function setup(server: TestServer) {
  const alice = await registerUser(server);
  const bob = await registerUser(server);
  const room = await api(server, 'POST', `${V3}/createRoom`, { token: alice.accessToken, body: { preset: 'public_chat' } });
  assert.equal(room.status, 200);
  const join = await api(server, 'POST', `${V3}/rooms/${enc(room.body.room_id)}/join`, { token: bob.accessToken, body: {} });
  assert.equal(join.status, 200);
  return { alice, bob, roomId: room.body.room_id as string };
}

/** Bob's sync stream: waits until alice's presence matches. */
async function waitPresence(server: TestServer, watcher: TestUser, since: string, userId: string, want: Json, what: string) {
  const matches = (c: Json | undefined) => c !== undefined && Object.entries(want).every(([k, v]) => c[k] === v);
  // set_presence=offline: the watcher's own polling must not count as a connection of theirs.
  return syncUntil(server, watcher, since, (b) => matches(presenceOf(b, userId)), what, { query: { set_presence: 'offline' } });
}

describe('presence across devices (short timeouts)', () => {
  const server = suiteServer({ config: { presence: { idle_after_ms: 60_000, offline_grace_ms: 600 } } });

  test('online while any device is active; unavailable when only an idle device is left; offline after the last one goes', async () => {
    const { alice, bob } = await setup(server);
    const second = await login(server, alice.localpart, alice.password);
    assert.equal(second.status, 200);
    const alice2: TestUser = { ...alice, accessToken: second.body.access_token, deviceId: second.body.device_id };
    const start = await syncOnce(server, bob, { set_presence: 'offline' });

    let mode2 = 'online';
    const dev1 = pollLoop(server, alice, () => 'online');
    const dev2 = pollLoop(server, alice2, () => mode2);
    const online = await waitPresence(server, bob, start.next_batch, alice.userId, { presence: 'online', currently_active: true }, 'online');
    assert.ok(tokenPositions(online.next_batch).presence > tokenPositions(start.next_batch).presence);

    // Device 2 goes idle: device 1 is still active, so alice stays online.
    mode2 = 'unavailable';
    await dev2.nextPoll();
    const still = await api(server, 'GET', `${V3}/presence/${enc(alice.userId)}/status`, { token: bob.accessToken });
    assert.equal(still.status, 200);
    assert.equal(still.body.presence, 'online');

    // Device 1 closes: after the grace period only the idle device is left.
    await dev1.stop();
    const idle = await waitPresence(server, bob, online.next_batch, alice.userId, { presence: 'unavailable' }, 'unavailable');
    assert.equal(presenceOf(idle, alice.userId).currently_active, false);

    // Device 2 closes too: offline.
    await dev2.stop();
    const gone = await waitPresence(server, bob, idle.next_batch, alice.userId, { presence: 'offline' }, 'offline');
    assert.equal(typeof presenceOf(gone, alice.userId).last_active_ago, 'number');
    const get = await api(server, 'GET', `${V3}/presence/${enc(alice.userId)}/status`, { token: bob.accessToken });
    assert.equal(get.body.presence, 'offline');
  });

  test('PUT presence: status_msg and explicit states reach room members; others see nothing', async () => {
    const { alice, bob } = await setup(server);
    const carol = await registerUser(server);
    const start = await syncOnce(server, bob, { set_presence: 'offline' });
    const carolStart = await syncOnce(server, carol, { set_presence: 'offline' });

    const put = (body: unknown, user = alice) =>
      api(server, 'PUT', `${V3}/presence/${enc(alice.userId)}/status`, { token: user.accessToken, body });
    assert.equal((await put({ presence: 'online', status_msg: 'at lunch' })).status, 200);
    const seen = await waitPresence(server, bob, start.next_batch, alice.userId, { presence: 'online', status_msg: 'at lunch' }, 'status');
    assert.equal(presenceOf(seen, alice.userId).currently_active, true);

    const own = await api(server, 'GET', `${V3}/presence/${enc(alice.userId)}/status`, { token: alice.accessToken });
    assert.equal(own.body.presence, 'online');
    assert.equal(own.body.status_msg, 'at lunch');
    assert.equal(typeof own.body.last_active_ago, 'number');

    assert.equal((await put({ presence: 'unavailable', status_msg: 'busy' })).status, 200);
    const away = await waitPresence(server, bob, seen.next_batch, alice.userId, { presence: 'unavailable', status_msg: 'busy' }, 'away');
    assert.ok(away);
    assert.equal((await put({ presence: 'offline' })).status, 200);
    await waitPresence(server, bob, away.next_batch, alice.userId, { presence: 'offline' }, 'invisible');

    // Carol shares no room with alice: not in her sync, and GET is forbidden.
    const carolNow = await syncOnce(server, carol, { since: carolStart.next_batch, set_presence: 'offline' });
    assert.equal(presenceOf(carolNow, alice.userId), undefined);
    const carolInitial = await syncOnce(server, carol, { set_presence: 'offline' });
    assert.equal(presenceOf(carolInitial, alice.userId), undefined);
    assertError(await api(server, 'GET', `${V3}/presence/${enc(alice.userId)}/status`, { token: carol.accessToken }), 403, 'M_FORBIDDEN');
  });

  test('presence errors', async () => {
    const { alice, bob } = await setup(server);
    const put = (user: TestUser, target: string, body: unknown) =>
      api(server, 'PUT', `${V3}/presence/${enc(target)}/status`, { token: user.accessToken, body });
    assertError(await put(bob, alice.userId, { presence: 'online' }), 403, 'M_FORBIDDEN');
    const bad = await put(alice, alice.userId, { presence: 'away' });
    assert.equal(bad.status, 400);
    assertError(await put(alice, alice.userId, {}), 400, 'M_MISSING_PARAM');
    assertError(await put(alice, alice.userId, { presence: 'online', status_msg: 5 }), 400, 'M_BAD_JSON');
    assertError(await put(alice, 'not-a-user', { presence: 'online' }), 400, 'M_INVALID_PARAM');
    const unknown = await api(server, 'GET', `${V3}/presence/${enc(`@nobody:${server.serverName}`)}/status`, { token: alice.accessToken });
    assertError(unknown, 404, 'M_NOT_FOUND');
    const noAuth = await api(server, 'GET', `${V3}/presence/${enc(alice.userId)}/status`);
    assertError(noAuth, 401, 'M_MISSING_TOKEN');
  });
});

describe('presence idle timeout', () => {
  const server = suiteServer({ config: { presence: { idle_after_ms: 400, offline_grace_ms: 60_000 } } });

  test('a connected user with no activity becomes unavailable; sending a message brings them back online', async () => {
    const { alice, bob, roomId } = await setup(server);
    const start = await syncOnce(server, bob, { set_presence: 'offline' });
    await syncOnce(server, alice); // connects alice's device (live for the grace period)
    const online = await waitPresence(server, bob, start.next_batch, alice.userId, { presence: 'online' }, 'online');
    const idle = await waitPresence(server, bob, online.next_batch, alice.userId, { presence: 'unavailable' }, 'idle timeout');
    assert.equal(presenceOf(idle, alice.userId).currently_active, false);
    const sent = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/p1`, {
      token: alice.accessToken,
      body: { msgtype: 'm.text', body: 'back' },
    });
    assert.equal(sent.status, 200);
    const back = await waitPresence(server, bob, idle.next_batch, alice.userId, { presence: 'online', currently_active: true }, 'active again');
    assert.ok(back);
  });
});

describe('presence on a newly shared room', () => {
  const server = suiteServer({ config: { presence: { idle_after_ms: 60_000, offline_grace_ms: 60_000 } } });

  test('when carol joins alice’s room, each gets the other’s current presence in the next sync', async () => {
    const { alice, roomId } = await setup(server);
    const carol = await registerUser(server);
    const put = (user: TestUser, body: unknown) => api(server, 'PUT', `${V3}/presence/${enc(user.userId)}/status`, { token: user.accessToken, body });
    // Both connected (live for the grace period), with explicit states so nothing changes on its own while the test runs.
    await syncOnce(server, alice);
    await syncOnce(server, carol);
    assert.equal((await put(alice, { presence: 'unavailable', status_msg: 'in a meeting' })).status, 200);
    assert.equal((await put(carol, { presence: 'unavailable', status_msg: 'new here' })).status, 200);
    const aliceStart = await syncOnce(server, alice, { set_presence: 'offline' });
    const carolStart = await syncOnce(server, carol, { set_presence: 'offline' });
    assert.equal(presenceOf(carolStart, alice.userId), undefined, 'no shared room yet');
    assert.equal(presenceOf(aliceStart, carol.userId), undefined, 'no shared room yet');

    const join = await api(server, 'POST', `${V3}/rooms/${enc(roomId)}/join`, { token: carol.accessToken, body: {} });
    assert.equal(join.status, 200);
    // Neither presence changed after the tokens were taken: they come with the new shared room.
    const carolSees = await waitPresence(server, carol, carolStart.next_batch, alice.userId, { presence: 'unavailable', status_msg: 'in a meeting' }, 'alice for carol');
    assert.equal(presenceOf(carolSees, alice.userId).currently_active, false);
    await waitPresence(server, alice, aliceStart.next_batch, carol.userId, { presence: 'unavailable', status_msg: 'new here' }, 'carol for alice');
    // Sent once: the sync after that does not repeat it.
    const again = await syncOnce(server, carol, { since: carolSees.next_batch, set_presence: 'offline', timeout: '0' });
    assert.equal(presenceOf(again, alice.userId), undefined);
  });
});
