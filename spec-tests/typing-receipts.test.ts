/** Typing notifications, read receipts (public, private, threaded), read markers and unread counts over /sync. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { suiteServer } from './harness/suite.js';
import { ephemeralOf, syncOnce, syncUntil, tokenPositions } from './harness/sync-wait.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

describe('typing, receipts and read markers', () => {
  const server = suiteServer();
  let txn = 0;

  const ok = async (user: TestUser, method: string, path: string, body: unknown = {}): Promise<Json> => {
    const res = await api(server, method, `${V3}${path}`, { token: user.accessToken, body });
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const send = async (user: TestUser, roomId: string, body: string, extra: Record<string, unknown> = {}) =>
    (await ok(user, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, { msgtype: 'm.text', body, ...extra })).event_id as string;
  const sharedRoom = async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const { room_id: roomId } = await ok(alice, 'POST', '/createRoom', { preset: 'public_chat' });
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/join`);
    return { alice, bob, roomId: roomId as string };
  };
  const typing = (user: TestUser, roomId: string, body: unknown) =>
    api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/typing/${enc(user.userId)}`, { token: user.accessToken, body });
  const receipt = (user: TestUser, roomId: string, type: string, eventId: string, body: unknown = {}) =>
    api(server, 'POST', `${V3}/rooms/${enc(roomId)}/receipt/${type}/${enc(eventId)}`, { token: user.accessToken, body });
  const typingUsers = (body: Json, roomId: string): string[] | undefined => ephemeralOf(body, roomId, 'm.typing')[0]?.content.user_ids;

  test('typing: a long poll wakes with m.typing; stop and timeout clear it; tokens advance on the typing stream', async () => {
    const { alice, bob, roomId } = await sharedRoom();
    const start = await syncOnce(server, bob);
    assert.deepEqual(ephemeralOf(start, roomId, 'm.typing'), [], 'nobody types yet');

    const polling = syncUntil(server, bob, start.next_batch, (b) => typingUsers(b, roomId) !== undefined, 'typing start');
    assert.equal((await typing(alice, roomId, { typing: true, timeout: 30000 })).status, 200);
    const started = await polling;
    assert.deepEqual(typingUsers(started, roomId), [alice.userId]);
    assert.ok(tokenPositions(started.next_batch).typing > tokenPositions(start.next_batch).typing);
    assert.deepEqual(started.rooms.join[roomId].timeline.events, [], 'no timeline events, only ephemeral');

    // Nothing new: an incremental sync from the new token does not repeat it.
    const quiet = await syncOnce(server, bob, { since: started.next_batch });
    assert.equal(quiet.rooms.join?.[roomId], undefined);

    assert.equal((await typing(alice, roomId, { typing: false })).status, 200);
    const stopped = await syncUntil(server, bob, started.next_batch, (b) => typingUsers(b, roomId) !== undefined, 'typing stop');
    assert.deepEqual(typingUsers(stopped, roomId), []);

    // A short timeout expires on its own.
    assert.equal((await typing(alice, roomId, { typing: true, timeout: 200 })).status, 200);
    const again = await syncUntil(server, bob, stopped.next_batch, (b) => typingUsers(b, roomId)?.length === 1, 'typing again');
    const expired = await syncUntil(server, bob, again.next_batch, (b) => typingUsers(b, roomId)?.length === 0, 'typing timeout');
    assert.ok(tokenPositions(expired.next_batch).typing > tokenPositions(again.next_batch).typing);

    // An initial sync shows the current typers only.
    await typing(bob, roomId, { typing: true, timeout: 30000 });
    const initial = await syncOnce(server, alice);
    assert.deepEqual(typingUsers(initial, roomId), [bob.userId]);
    await typing(bob, roomId, { typing: false });
  });

  test('typing errors: other user, not joined, bad body', async () => {
    const { alice, bob, roomId } = await sharedRoom();
    const outsider = await registerUser(server);
    const asOther = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/typing/${enc(bob.userId)}`, {
      token: alice.accessToken,
      body: { typing: true },
    });
    assertError(asOther, 403, 'M_FORBIDDEN');
    assertError(await typing(outsider, roomId, { typing: true }), 403, 'M_FORBIDDEN');
    assertError(await typing(alice, roomId, { timeout: 10 }), 400, 'M_MISSING_PARAM');
    assertError(await typing(alice, roomId, { typing: 'yes' }), 400, 'M_BAD_JSON');
    const badRoom = await api(server, 'PUT', `${V3}/rooms/nope/typing/${enc(alice.userId)}`, {
      token: alice.accessToken,
      body: { typing: true },
    });
    assertError(badRoom, 400, 'M_INVALID_PARAM');
    const noAuth = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/typing/${enc(alice.userId)}`, { body: { typing: true } });
    assertError(noAuth, 401, 'M_MISSING_TOKEN');
  });

  test('receipts: m.read reaches others incrementally; m.read.private only its owner; threaded receipts carry thread_id', async () => {
    const { alice, bob, roomId } = await sharedRoom();
    const e1 = await send(alice, roomId, 'one');
    const e2 = await send(alice, roomId, 'two');
    const aliceStart = await syncOnce(server, alice);
    const bobStart = await syncOnce(server, bob);

    assert.equal((await receipt(bob, roomId, 'm.read', e1)).status, 200);
    const seen = await syncUntil(server, alice, aliceStart.next_batch, (b) => ephemeralOf(b, roomId, 'm.receipt').length > 0, 'receipt');
    const content = ephemeralOf(seen, roomId, 'm.receipt')[0].content;
    assert.deepEqual(Object.keys(content), [e1]);
    assert.equal(typeof content[e1]['m.read'][bob.userId].ts, 'number');
    assert.equal(content[e1]['m.read'][bob.userId].thread_id, undefined, 'unthreaded');
    assert.ok(tokenPositions(seen.next_batch).receipts > tokenPositions(aliceStart.next_batch).receipts);

    // Private: bob sees his own, alice does not (and is not woken into a response with it).
    assert.equal((await receipt(bob, roomId, 'm.read.private', e2)).status, 200);
    const bobSees = await syncUntil(
      server,
      bob,
      bobStart.next_batch,
      (b) => ephemeralOf(b, roomId, 'm.receipt').some((e: Json) => e.content[e2]?.['m.read.private']),
      'private receipt for its owner',
    );
    assert.equal(typeof ephemeralOf(bobSees, roomId, 'm.receipt')[0].content[e2]['m.read.private'][bob.userId].ts, 'number');
    // A public receipt after the private one: alice's next delta has it, and nothing private.
    assert.equal((await receipt(bob, roomId, 'm.read', e2, { thread_id: 'main' })).status, 200);
    const next = await syncUntil(server, alice, seen.next_batch, (b) => ephemeralOf(b, roomId, 'm.receipt').length > 0, 'second receipt');
    const c2 = ephemeralOf(next, roomId, 'm.receipt')[0].content;
    assert.deepEqual(Object.keys(c2), [e2]);
    assert.deepEqual(Object.keys(c2[e2]), ['m.read'], 'no private receipts for others');
    assert.equal(c2[e2]['m.read'][bob.userId].thread_id, 'main');

    // Initial sync: the latest receipts in the room.
    const initial = await syncOnce(server, alice);
    const all = ephemeralOf(initial, roomId, 'm.receipt')[0].content;
    assert.ok(all[e1]['m.read'][bob.userId], 'the unthreaded receipt');
    assert.equal(all[e2]['m.read'][bob.userId].thread_id, 'main');
    assert.equal(all[e2]['m.read.private'], undefined);
  });

  test('threaded receipts: thread root and thread events; mismatches are 400', async () => {
    const { alice, bob, roomId } = await sharedRoom();
    const root = await send(alice, roomId, 'root');
    const inThread = await send(alice, roomId, 'reply', { 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    const other = await send(alice, roomId, 'elsewhere');
    assert.equal((await receipt(bob, roomId, 'm.read', inThread, { thread_id: root })).status, 200);
    assert.equal((await receipt(bob, roomId, 'm.read', root, { thread_id: root })).status, 200);
    assertError(await receipt(bob, roomId, 'm.read', other, { thread_id: root }), 400, 'M_INVALID_PARAM');
    assertError(await receipt(bob, roomId, 'm.read', inThread, { thread_id: 'main' }), 400, 'M_INVALID_PARAM');
    assertError(await receipt(bob, roomId, 'm.read', other, { thread_id: '' }), 400, 'M_INVALID_PARAM');
    assertError(await receipt(bob, roomId, 'm.read', other, { thread_id: 5 }), 400, 'M_INVALID_PARAM');
    assertError(await receipt(bob, roomId, 'm.fully_read', other, { thread_id: 'main' }), 400, 'M_INVALID_PARAM');
    const initial = await syncOnce(server, alice);
    const content = ephemeralOf(initial, roomId, 'm.receipt')[0].content;
    assert.equal(content[inThread]['m.read'][bob.userId].thread_id, root);
  });

  test('receipt errors: unknown type, unknown event, event of another room, not joined', async () => {
    const { alice, bob, roomId } = await sharedRoom();
    const ev = await send(alice, roomId, 'hello');
    const { room_id: otherRoom } = await ok(alice, 'POST', '/createRoom', {});
    const otherEv = await send(alice, otherRoom, 'other');
    const outsider = await registerUser(server);
    assertError(await receipt(bob, roomId, 'm.seen', ev), 400, 'M_INVALID_PARAM');
    assertError(await receipt(bob, roomId, 'm.read', '$nope'), 404, 'M_NOT_FOUND');
    assertError(await receipt(alice, roomId, 'm.read', otherEv), 404, 'M_NOT_FOUND');
    assertError(await receipt(outsider, roomId, 'm.read', ev), 403, 'M_FORBIDDEN');
    assertError(await receipt(bob, 'not-a-room', 'm.read', ev), 400, 'M_INVALID_PARAM');
  });

  test('read markers and unread counts: receipts and m.fully_read bring the counts down', async () => {
    const { alice, bob, roomId } = await sharedRoom();
    const e1 = await send(alice, roomId, 'one');
    const e2 = await send(alice, roomId, `two for ${bob.userId}`);
    const e3 = await send(alice, roomId, 'three');
    const unread = (b: Json) => b.rooms.join[roomId].unread_notifications;
    const start = await syncOnce(server, bob);
    assert.deepEqual(unread(start), { notification_count: 3, highlight_count: 1 });

    // A private receipt counts as read too.
    assert.equal((await receipt(bob, roomId, 'm.read.private', e1)).status, 200);
    const afterPrivate = await syncUntil(server, bob, start.next_batch, (b) => b.rooms.join?.[roomId] !== undefined, 'own receipt');
    assert.deepEqual(unread(afterPrivate), { notification_count: 2, highlight_count: 1 });

    // read_markers: m.fully_read lands in room account data; m.read moves the receipt.
    await ok(bob, 'POST', `/rooms/${enc(roomId)}/read_markers`, { 'm.fully_read': e2, 'm.read': e2 });
    const afterMarkers = await syncUntil(
      server,
      bob,
      afterPrivate.next_batch,
      (b) => (b.rooms.join?.[roomId]?.account_data?.events ?? []).some((e: Json) => e.type === 'm.fully_read'),
      'fully read marker',
    );
    assert.deepEqual(
      afterMarkers.rooms.join[roomId].account_data.events.find((e: Json) => e.type === 'm.fully_read').content,
      { event_id: e2 },
    );
    assert.deepEqual(unread(afterMarkers), { notification_count: 1, highlight_count: 0 });
    const fr = await api(server, 'GET', `${V3}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`, {
      token: bob.accessToken,
    });
    assert.deepEqual(fr.body, { event_id: e2 });

    // The receipt endpoint with m.fully_read is the same marker; then everything is read.
    assert.equal((await receipt(bob, roomId, 'm.fully_read', e3)).status, 200);
    const done = await syncOnce(server, bob, { since: afterMarkers.next_batch });
    assert.deepEqual(unread(done), { notification_count: 0, highlight_count: 0 });
    // A receipt for an older event does not move the marker back.
    assert.equal((await receipt(bob, roomId, 'm.read', e1)).status, 200);
    const still = await syncOnce(server, bob);
    assert.deepEqual(unread(still), { notification_count: 0, highlight_count: 0 });
  });

  test('read marker errors and the m.fully_read account data guard', async () => {
    const { alice, bob, roomId } = await sharedRoom();
    const ev = await send(alice, roomId, 'x');
    const outsider = await registerUser(server);
    const post = (user: TestUser, body: unknown) =>
      api(server, 'POST', `${V3}/rooms/${enc(roomId)}/read_markers`, { token: user.accessToken, body });
    assertError(await post(bob, { 'm.fully_read': 'not-an-event' }), 400, 'M_BAD_JSON');
    assertError(await post(bob, { 'm.fully_read': '$unknown' }), 404, 'M_NOT_FOUND');
    assertError(await post(outsider, { 'm.fully_read': ev }), 403, 'M_FORBIDDEN');
    const direct = await api(server, 'PUT', `${V3}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`, {
      token: bob.accessToken,
      body: { event_id: ev },
    });
    assert.equal(direct.status, 405);
    assert.equal((await post(bob, {})).status, 200, 'nothing to set is fine');
  });

  test('account data and tags are pushed live: a waiting long poll wakes with them', async () => {
    const { alice, roomId } = await sharedRoom();
    const start = await syncOnce(server, alice);
    const tagged = syncUntil(
      server,
      alice,
      start.next_batch,
      (b) => (b.rooms?.join?.[roomId]?.account_data?.events ?? []).some((e: Json) => e.type === 'm.tag'),
      'tag',
    );
    await ok(alice, 'PUT', `/user/${enc(alice.userId)}/rooms/${enc(roomId)}/tags/m.favourite`, { order: 0.5 });
    const got = await tagged;
    const tag = got.rooms.join[roomId].account_data.events.find((e: Json) => e.type === 'm.tag');
    assert.deepEqual(tag.content, { tags: { 'm.favourite': { order: 0.5 } } });
    const global = syncUntil(server, alice, got.next_batch, (b) => b.account_data.events.some((e: Json) => e.type === 'org.example.x'), 'global');
    await ok(alice, 'PUT', `/user/${enc(alice.userId)}/account_data/org.example.x`, { v: 1 });
    const g = await global;
    assert.deepEqual(g.account_data.events.find((e: Json) => e.type === 'org.example.x').content, { v: 1 });
  });
});
