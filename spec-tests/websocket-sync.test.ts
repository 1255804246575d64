/** WebSocket sync (docs/websocket-sync.md) against a real server, with `ws` as the client. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, login, registerUser, type TestUser } from './harness/client.js';
import { createRoomAs } from './harness/room-helpers.js';
import { startServer, type TestServer } from './harness/server.js';
import { type Frame, timelineBodies, WsSyncClient } from './harness/ws-client.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;
const BIG_TIMELINE = JSON.stringify({ room: { timeline: { limit: 1000 } } });

describe('websocket sync', () => {
  let server: TestServer;
  let txn = 0;
  before(async () => {
    server = await startServer({
      config: {
        websocket: { max_buffered_bytes: 64 * 1024, heartbeat_interval_ms: 2000, auth_timeout_ms: 300 },
        presence: { offline_grace_ms: 300 },
        auth: { scrypt_log_n: 10, refreshable_access_token_lifetime_ms: 1500 },
        rate_limits: { send: { per_second: 100000, burst: 100000 } },
      },
    });
  });
  after(async () => {
    await server.stop();
    server.cleanup();
  });

  const connect = (user: TestUser, query: Record<string, string> = {}) =>
    WsSyncClient.connect(server.baseUrl, { token: user.accessToken, query });
  const createRoom = (user: TestUser) => createRoomAs(server, user, { preset: 'public_chat' });
  const join = async (user: TestUser, roomId: string) => {
    const res = await api(server, 'POST', `${V3}/rooms/${enc(roomId)}/join`, { token: user.accessToken, body: {} });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };
  const sendHttp = async (user: TestUser, roomId: string, body: string, extra: Record<string, unknown> = {}) => {
    const res = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/h${++txn}`, {
      token: user.accessToken,
      body: { msgtype: 'm.text', body, ...extra },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event_id as string;
  };
  /** Every message body the client has seen in `roomId`, across all its sync frames. */
  const seen = (c: WsSyncClient, roomId: string) => c.syncBodies().flatMap((b) => timelineBodies(b, roomId));
  const waitForBody = (c: WsSyncClient, roomId: string, body: string) =>
    c.next((f) => f.type === 'sync' && timelineBodies(f.body, roomId).includes(body));

  test('header auth: the first frame is a sync with next_batch; new events are pushed as deltas', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice);
    await join(bob, roomId);
    await sendHttp(alice, roomId, 'before');
    const ws = await connect(bob);
    const first = await ws.next((f) => f.type === 'sync');
    assert.match(first.body.next_batch, /^s\d/);
    assert.deepEqual(timelineBodies(first.body, roomId), ['before'], 'initial sync body, as /sync gives it');
    const room = first.body.rooms.join[roomId];
    assert.ok([...room.state.events, ...room.timeline.events].some((e: Frame) => e.type === 'm.room.create'));

    await sendHttp(alice, roomId, 'pushed');
    const delta = await waitForBody(ws, roomId, 'pushed');
    assert.deepEqual(timelineBodies(delta.body, roomId), ['pushed'], 'only what is new');
    assert.notEqual(delta.body.next_batch, first.body.next_batch);
    await ws.close();
  });

  test('browser style: token, since and filter in the first frame', async () => {
    const alice = await registerUser(server);
    const roomId = await createRoom(alice);
    const initial = await api(server, 'GET', `${V3}/sync`, { token: alice.accessToken });
    await sendHttp(alice, roomId, 'after-token');
    const ws = await WsSyncClient.connect(server.baseUrl, {
      authFrame: { access_token: alice.accessToken, since: initial.body.next_batch, filter: { room: { timeline: { limit: 5 } } } },
    });
    const first = await ws.next((f) => f.type === 'sync');
    assert.deepEqual(timelineBodies(first.body, roomId), ['after-token'], 'resumes from since');
    assert.equal(first.body.rooms.join[roomId].state.events.length, 0, 'incremental: no state');
    await ws.close();
  });

  test('auth failures: unknown token, no auth frame, auth timeout, logout while connected', async () => {
    const bad = await WsSyncClient.connect(server.baseUrl, { token: 'nope' });
    const err = await bad.next((f) => f.type === 'error');
    assert.equal(err.errcode, 'M_UNKNOWN_TOKEN');
    assert.equal(err.request_id, null);
    assert.deepEqual(await bad.closed, { code: 4401, reason: 'M_UNKNOWN_TOKEN' });

    const noAuth = await WsSyncClient.connect(server.baseUrl);
    noAuth.send({ type: 'send', request_id: 'x', room_id: '!r:localhost', event_type: 'm.room.message', txn_id: 't', content: {} });
    assert.equal((await noAuth.next((f) => f.type === 'error')).errcode, 'M_MISSING_TOKEN');
    assert.equal((await noAuth.closed).code, 4401);

    const silent = await WsSyncClient.connect(server.baseUrl);
    assert.equal((await silent.closed).code, 4408, 'closed after auth_timeout_ms');

    const alice = await registerUser(server);
    const ws = await connect(alice);
    await ws.next((f) => f.type === 'sync');
    const out = await api(server, 'POST', `${V3}/logout`, { token: alice.accessToken, body: {} });
    assert.equal(out.status, 200);
    assert.equal((await ws.next((f) => f.type === 'error')).errcode, 'M_UNKNOWN_TOKEN');
    assert.equal((await ws.closed).code, 4401);

    const bob = await registerUser(server);
    const badSince = await connect(bob, { since: 'garbage' });
    assert.equal((await badSince.next((f) => f.type === 'error')).errcode, 'M_INVALID_PARAM');
    assert.deepEqual(await badSince.closed, { code: 4400, reason: 'M_INVALID_PARAM' });
  });

  test('sending over the socket: acknowledged with the event ID, idempotent per txn_id, echoed with transaction_id', async () => {
    const alice = await registerUser(server);
    const roomId = await createRoom(alice);
    const ws = await connect(alice);
    await ws.next((f) => f.type === 'sync');
    const frame = { type: 'send', room_id: roomId, event_type: 'm.room.message', txn_id: 'w1', content: { msgtype: 'm.text', body: 'over ws' } };
    const ack = await ws.request(frame);
    assert.equal(ack.type, 'result', JSON.stringify(ack));
    assert.match(ack.body.event_id, /^\$/);
    const again = await ws.request(frame);
    assert.equal(again.body.event_id, ack.body.event_id, 'same txn_id, same event');
    const delta = await waitForBody(ws, roomId, 'over ws');
    const ev = delta.body.rooms.join[roomId].timeline.events.find((e: Frame) => e.event_id === ack.body.event_id);
    assert.equal(ev.unsigned.transaction_id, 'w1');
    assert.deepEqual(seen(ws, roomId), ['over ws'], 'sent once');
    // The txn_id is scoped as on HTTP: the same send retried over HTTP is the same request; the
    // same txn_id for another event type is another request.
    const overHttp = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/w1`, {
      token: alice.accessToken,
      body: frame.content,
    });
    assert.equal(overHttp.body.event_id, ack.body.event_id, 'retried over HTTP: same event');
    const otherType = await ws.request({ ...frame, event_type: 'org.example.note' });
    assert.equal(otherType.type, 'result', JSON.stringify(otherType));
    assert.notEqual(otherType.body.event_id, ack.body.event_id, 'another event type is another request');

    const state = await ws.request({ type: 'send', room_id: roomId, event_type: 'm.room.topic', state_key: '', content: { topic: 'T' } });
    assert.equal(state.type, 'result');
    const http = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/state/m.room.topic`, { token: alice.accessToken });
    assert.deepEqual(http.body, { topic: 'T' });
    await ws.close();
  });

  test('bad frames get error frames tied to their request id; the connection and server carry on', async () => {
    const alice = await registerUser(server);
    const roomId = await createRoom(alice);
    const ws = await connect(alice);
    await ws.next((f) => f.type === 'sync');
    const errors = () => ws.frames.filter((f) => f.type === 'error');

    ws.sendRaw('{not json');
    ws.sendRaw('[1,2]');
    ws.sendRaw(Buffer.from([1, 2, 3]));
    await ws.next(() => errors().length >= 3);
    assert.deepEqual(errors().map((e) => e.errcode), ['M_NOT_JSON', 'M_BAD_JSON', 'M_NOT_JSON']);
    assert.ok(errors().every((e) => e.request_id === null && typeof e.error === 'string'));

    const unknownType = await ws.request({ type: 'frobnicate' });
    assert.equal(unknownType.errcode, 'M_UNRECOGNIZED');
    const missing = await ws.request({ type: 'send', event_type: 'm.room.message', txn_id: 'x', content: {} });
    assert.equal(missing.errcode, 'M_MISSING_PARAM');
    const wrongType = await ws.request({ type: 'send', room_id: roomId, event_type: 7, txn_id: 'x', content: {} });
    assert.equal(wrongType.errcode, 'M_BAD_JSON');
    const noRoom = await ws.request({ type: 'send', room_id: '!missing:localhost', event_type: 'm.room.message', txn_id: 'y', content: {} });
    assert.equal(noRoom.errcode, 'M_NOT_FOUND');
    assert.equal(noRoom.type, 'error');
    const noTxn = await ws.request({ type: 'send', room_id: roomId, event_type: 'm.room.message', content: {} });
    assert.equal(noTxn.errcode, 'M_MISSING_PARAM');

    ws.send({ type: 'ping', request_id: 'p1' });
    assert.deepEqual(await ws.next((f) => f.type === 'pong'), { type: 'pong', request_id: 'p1' });
    await sendHttp(alice, roomId, 'still fine');
    await waitForBody(ws, roomId, 'still fine');
    await ws.close();
  });

  test('resumption: no loss or duplicates across a reconnect and a switch to long-poll and back', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice);
    await join(bob, roomId);
    const sent: string[] = [];
    const say = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const body = `m${sent.length}`;
        sent.push(body);
        await sendHttp(alice, roomId, body);
      }
    };
    const got: string[] = [];
    const query = { filter: BIG_TIMELINE };

    const ws1 = await connect(bob, query);
    await ws1.next((f) => f.type === 'sync');
    await say(5);
    await waitForBody(ws1, roomId, 'm4');
    got.push(...seen(ws1, roomId));
    const t1 = ws1.lastToken()!;
    await ws1.close();

    await say(5); // while disconnected
    const ws2 = await connect(bob, { ...query, since: t1 });
    await say(5); // while reconnected
    await waitForBody(ws2, roomId, 'm14');
    got.push(...seen(ws2, roomId));
    const t2 = ws2.lastToken()!;
    await ws2.close();

    await say(3);
    const lp = await api(server, 'GET', `${V3}/sync`, { token: bob.accessToken, query: { since: t2, filter: BIG_TIMELINE, timeout: '0' } });
    assert.equal(lp.status, 200);
    got.push(...timelineBodies(lp.body, roomId));

    await say(3);
    const ws3 = await connect(bob, { ...query, since: lp.body.next_batch });
    await waitForBody(ws3, roomId, 'm20');
    got.push(...seen(ws3, roomId));
    await ws3.close();

    assert.deepEqual(got, sent, 'every message exactly once, in order');
  });

  test('to-device over the socket: each message once per connection, kept until the client acks it', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const sendToDevice = async (n: number) => {
      const res = await api(server, 'PUT', `${V3}/sendToDevice/m.test/td${++txn}`, {
        token: alice.accessToken,
        body: { messages: { [bob.userId]: { [bob.deviceId]: { n } } } },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const toDevice = (c: WsSyncClient) => c.syncBodies().flatMap((b) => (b.to_device?.events ?? []).map((e: Frame) => e.content.n));
    const ws1 = await connect(bob);
    await ws1.next((f) => f.type === 'sync');
    const start = ws1.lastToken()!;
    await sendToDevice(1);
    await ws1.next((f) => f.type === 'sync' && f.body.to_device.events.length > 0);
    await sendToDevice(2);
    await ws1.next((f) => f.type === 'sync' && f.body.to_device.events.some((e: Frame) => e.content.n === 2));
    assert.deepEqual(toDevice(ws1), [1, 2], 'each once on the socket');
    await ws1.close();

    // No ack: the frames may never have been processed, so resuming from the start gets both again.
    const ws2 = await connect(bob, { since: start });
    await ws2.next((f) => f.type === 'sync');
    assert.deepEqual(toDevice(ws2), [1, 2]);
    const ack = await ws2.request({ type: 'ack', request_id: 'a1', next_batch: ws2.lastToken()! });
    assert.equal(ack.type, 'result', JSON.stringify(ack));
    const bad = await ws2.request({ type: 'ack', request_id: 'a2', next_batch: 'nonsense' });
    assert.equal(bad.errcode, 'M_INVALID_PARAM');
    await ws2.close();

    // Acknowledged: gone for good, even for a client that resumes from an older token.
    const ws3 = await connect(bob, { since: start });
    await ws3.next((f) => f.type === 'sync');
    assert.deepEqual(toDevice(ws3), []);
    await ws3.close();
  });

  test('an expired access token closes the socket with 4401 and soft_logout, within a heartbeat period', async () => {
    const carol = await registerUser(server);
    const l = await login(server, carol.localpart, carol.password, { refresh_token: true });
    assert.equal(l.status, 200);
    const ws = await WsSyncClient.connect(server.baseUrl, { token: l.body.access_token });
    await ws.next((f) => f.type === 'sync');
    const err = await ws.next((f) => f.type === 'error', 10_000);
    assert.equal(err.errcode, 'M_UNKNOWN_TOKEN');
    assert.equal(err.soft_logout, true);
    assert.equal((await ws.closed).code, 4401);
  });

  test('account data and room tags are pushed over the socket as they change', async () => {
    const alice = await registerUser(server);
    const roomId = await createRoom(alice);
    const ws = await connect(alice);
    await ws.next((f) => f.type === 'sync');
    const put = await api(server, 'PUT', `${V3}/user/${enc(alice.userId)}/account_data/org.example.settings`, {
      token: alice.accessToken,
      body: { theme: 'dark' },
    });
    assert.equal(put.status, 200);
    await ws.next((f) => f.type === 'sync' && f.body.account_data.events.some((e: Frame) => e.type === 'org.example.settings' && e.content.theme === 'dark'));
    const tag = await api(server, 'PUT', `${V3}/user/${enc(alice.userId)}/rooms/${enc(roomId)}/tags/m.favourite`, {
      token: alice.accessToken,
      body: { order: 0.5 },
    });
    assert.equal(tag.status, 200);
    const frame = await ws.next(
      (f) => f.type === 'sync' && (f.body.rooms?.join?.[roomId]?.account_data?.events ?? []).some((e: Frame) => e.type === 'm.tag'),
    );
    const tags = frame.body.rooms.join[roomId].account_data.events.find((e: Frame) => e.type === 'm.tag');
    assert.deepEqual(tags.content, { tags: { 'm.favourite': { order: 0.5 } } });
    await ws.close();
  });

  test('a burst of 1,000 events arrives complete and in order', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice);
    await join(bob, roomId);
    const reader = await connect(bob, { filter: BIG_TIMELINE });
    await reader.next((f) => f.type === 'sync');
    const writer = await connect(alice);
    await writer.next((f) => f.type === 'sync');
    // Pipelined: the server answers request frames in order, so the sends land in this order.
    const acks: Promise<Frame>[] = [];
    for (let i = 0; i < 1000; i++) {
      acks.push(writer.request({ type: 'send', room_id: roomId, event_type: 'm.room.message', txn_id: `b${i}`, content: { msgtype: 'm.text', body: `b${i}` } }, 60_000));
      if (acks.length % 90 === 0) await acks.at(-1); // stay under max_pending_requests
    }
    assert.ok((await Promise.all(acks)).every((a) => a.type === 'result'));
    await reader.next((f) => f.type === 'sync' && timelineBodies(f.body, roomId).includes('b999'), 60_000);
    const limited = reader.syncBodies().some((b) => b.rooms?.join?.[roomId]?.timeline?.limited === true);
    assert.equal(limited, false, 'no gaps');
    assert.deepEqual(seen(reader, roomId), Array.from({ length: 1000 }, (_, i) => `b${i}`));
    await reader.close();
    await writer.close();
  });

  test('typing, receipts and read markers over the socket reach the other member as ephemeral events', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice);
    await join(bob, roomId);
    const eventId = await sendHttp(bob, roomId, 'read me');
    const a = await connect(alice);
    const b = await connect(bob);
    await a.next((f) => f.type === 'sync');
    await b.next((f) => f.type === 'sync');
    const ephemeral = (f: Frame, type: string) =>
      (f.body?.rooms?.join?.[roomId]?.ephemeral?.events ?? []).filter((e: Frame) => e.type === type);

    assert.deepEqual(await a.request({ type: 'typing', room_id: roomId, typing: true, timeout: 10_000 }), { type: 'result', request_id: 'r1', body: {} });
    await b.next((f) => f.type === 'sync' && ephemeral(f, 'm.typing').some((e: Frame) => e.content.user_ids.includes(alice.userId)));
    await a.request({ type: 'typing', room_id: roomId, typing: false });
    await b.next((f) => f.type === 'sync' && ephemeral(f, 'm.typing').some((e: Frame) => e.content.user_ids.length === 0));

    const r = await a.request({ type: 'receipt', room_id: roomId, receipt_type: 'm.read', event_id: eventId });
    assert.equal(r.type, 'result', JSON.stringify(r));
    const rf = await b.next((f) => f.type === 'sync' && ephemeral(f, 'm.receipt').length > 0);
    assert.ok(ephemeral(rf, 'm.receipt')[0].content[eventId]['m.read'][alice.userId]);

    const rm = await a.request({ type: 'read_markers', room_id: roomId, 'm.fully_read': eventId });
    assert.equal(rm.type, 'result', JSON.stringify(rm));
    const bad = await a.request({ type: 'receipt', room_id: roomId, receipt_type: 'm.nope', event_id: eventId });
    assert.equal(bad.errcode, 'M_INVALID_PARAM');
    const notRoom = await a.request({ type: 'typing', room_id: 'nope', typing: true });
    assert.equal(notRoom.errcode, 'M_INVALID_PARAM');
    await a.close();
    await b.close();
  });

  test('presence: an open socket makes its user online, a presence frame sets the status, closing goes offline', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice);
    await join(bob, roomId);
    const presenceOf = async () => {
      const res = await api(server, 'GET', `${V3}/presence/${enc(bob.userId)}/status`, { token: alice.accessToken });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const ws = await connect(bob);
    await ws.next((f) => f.type === 'sync');
    assert.equal((await presenceOf()).presence, 'online');
    const set = await ws.request({ type: 'presence', presence: 'unavailable', status_msg: 'lunch' });
    assert.equal(set.type, 'result', JSON.stringify(set));
    const p = await presenceOf();
    assert.equal(p.presence, 'unavailable');
    assert.equal(p.status_msg, 'lunch');
    await ws.close();
    const deadline = Date.now() + 10_000;
    while ((await presenceOf()).presence !== 'offline') {
      assert.ok(Date.now() < deadline, 'offline after the grace period');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

});
