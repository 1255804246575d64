/** GET /sync: initial and incremental, long polling, filters, lazy members, invite/leave, account data, visibility. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ApiResponse, api, assertError, registerUser, type TestUser } from './harness/client.js';
import { createRoomAs } from './harness/room-helpers.js';
import { suiteServer } from './harness/suite.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

describe('sync', () => {
  const server = suiteServer();
  let txn = 0;

  const sync = async (user: TestUser, query: Record<string, string> = {}): Promise<Json> => {
    const res = await api(server, 'GET', `${V3}/sync`, { token: user.accessToken, query });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(typeof res.body.next_batch, 'string');
    return res.body;
  };
  const createRoom = (user: TestUser, body: Record<string, unknown> = {}) => createRoomAs(server, user, body);
  const send = async (user: TestUser, roomId: string, body: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const res = await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/t${++txn}`, {
      token: user.accessToken,
      body: { msgtype: 'm.text', body, ...extra },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event_id;
  };
  const post = async (user: TestUser, path: string, body: unknown = {}): Promise<ApiResponse> => {
    const res = await api(server, 'POST', `${V3}${path}`, { token: user.accessToken, body });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res;
  };
  const join = (user: TestUser, roomId: string) => post(user, `/rooms/${enc(roomId)}/join`);
  const bodies = (events: Json[]) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

  test('initial sync has the room, its state and timeline; incremental sync has only what is new', async () => {
    const alice = await registerUser(server);
    const roomId = await createRoom(alice, { name: 'Sync room' });
    await send(alice, roomId, 'first');
    const initial = await sync(alice);
    const room = initial.rooms.join[roomId];
    assert.ok(room, 'the room is in rooms.join');
    assert.deepEqual(bodies(room.timeline.events), ['first']);
    const all = [...room.state.events, ...room.timeline.events];
    assert.ok(all.some((e: Json) => e.type === 'm.room.create'));
    assert.ok(all.some((e: Json) => e.type === 'm.room.name' && e.content.name === 'Sync room'));
    assert.ok(room.timeline.events.every((e: Json) => e.room_id === undefined && typeof e.event_id === 'string'));
    assert.equal(typeof room.timeline.prev_batch, 'string');
    assert.deepEqual(room.ephemeral, { events: [] });
    assert.equal(room.summary['m.joined_member_count'], 1);
    assert.deepEqual(room.unread_notifications, { notification_count: 0, highlight_count: 0 });

    const quiet = await sync(alice, { since: initial.next_batch });
    assert.equal(quiet.rooms.join, undefined, 'nothing new: no rooms');

    const ev = await send(alice, roomId, 'second');
    const inc = await sync(alice, { since: initial.next_batch });
    const incRoom = inc.rooms.join[roomId];
    assert.deepEqual(incRoom.timeline.events.map((e: Json) => e.event_id), [ev]);
    assert.equal(incRoom.timeline.limited, false);
    assert.deepEqual(incRoom.state.events, [], 'no state changed');
    assert.ok(incRoom.timeline.events[0].unsigned.transaction_id, 'own device sees its transaction ID');
  });

  test('a long poll wakes on a send from another user; at timeout it answers empty with a new token', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await join(bob, roomId);
    const start = await sync(alice);

    const timedOut = await sync(alice, { since: start.next_batch, timeout: '50' });
    assert.equal(timedOut.rooms.join, undefined);
    assert.equal(typeof timedOut.next_batch, 'string');

    const polling = sync(alice, { since: timedOut.next_batch, timeout: '20000' });
    const sent = await send(bob, roomId, 'wake up');
    // A poll that slept through the send would time out with an empty response instead.
    const woke = await polling;
    assert.deepEqual(
      woke.rooms.join[roomId].timeline.events.map((e: Json) => e.event_id),
      [sent],
    );
  });

  test('limited timelines: prev_batch pages back through /messages over 500 messages', async () => {
    const alice = await registerUser(server);
    const roomId = await createRoom(alice);
    const sentBodies: string[] = [];
    for (let i = 0; i < 500; i++) {
      sentBodies.push(`m${i}`);
      await send(alice, roomId, `m${i}`);
    }
    const res = await sync(alice, { filter: JSON.stringify({ room: { timeline: { limit: 5 } } }) });
    const timeline = res.rooms.join[roomId].timeline;
    assert.equal(timeline.limited, true);
    assert.deepEqual(bodies(timeline.events), sentBodies.slice(495));
    const seen: string[] = [];
    let from: string | undefined = timeline.prev_batch;
    let pages = 0;
    while (from !== undefined) {
      const page = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, {
        token: alice.accessToken,
        query: { dir: 'b', from, limit: '100' },
      });
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.equal(page.body.start, from);
      seen.push(...bodies(page.body.chunk));
      from = page.body.end;
      assert.ok(++pages < 20, 'paging terminates');
    }
    assert.deepEqual(seen.reverse(), sentBodies.slice(0, 495), 'every earlier message once, in order');

    // And forwards again from the very start.
    const fwd = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, {
      token: alice.accessToken,
      query: { dir: 'f', limit: '10' },
    });
    assert.equal(fwd.body.chunk[0].type, 'm.room.create');
    const next = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, {
      token: alice.accessToken,
      query: { dir: 'f', limit: '10', from: fwd.body.end },
    });
    assert.notEqual(next.body.chunk[0].event_id, fwd.body.chunk[9].event_id, 'pages do not overlap');

    // A sync token works as `from` too.
    const fromSync = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, {
      token: alice.accessToken,
      query: { dir: 'b', from: res.next_batch, limit: '3' },
    });
    assert.deepEqual(bodies(fromSync.body.chunk), ['m499', 'm498', 'm497']);
  });

  test('filters by ID and inline: types, not_types, senders, rooms, limit', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomA = await createRoom(alice, { preset: 'public_chat' });
    const roomB = await createRoom(alice);
    await join(bob, roomA);
    await send(alice, roomA, 'from alice');
    await send(bob, roomA, 'from bob 1');
    await send(bob, roomA, 'from bob 2');
    await send(alice, roomB, 'in b');

    const created = await post(alice, `/user/${enc(alice.userId)}/filter`, {
      room: { rooms: [roomA], timeline: { types: ['m.room.message'], limit: 2 } },
    });
    const byId = await sync(alice, { filter: created.body.filter_id });
    assert.deepEqual(Object.keys(byId.rooms.join), [roomA]);
    assert.deepEqual(bodies(byId.rooms.join[roomA].timeline.events), ['from bob 1', 'from bob 2']);
    assert.equal(byId.rooms.join[roomA].timeline.limited, true);

    const inline = await sync(alice, {
      filter: JSON.stringify({ room: { not_rooms: [roomB], timeline: { senders: [bob.userId], not_types: ['m.room.member'] } } }),
    });
    assert.deepEqual(Object.keys(inline.rooms.join), [roomA]);
    assert.deepEqual(bodies(inline.rooms.join[roomA].timeline.events), ['from bob 1', 'from bob 2']);
    assert.ok(inline.rooms.join[roomA].timeline.events.every((e: Json) => e.sender === bob.userId));

    const wildcard = await sync(alice, { filter: JSON.stringify({ room: { timeline: { types: ['m.room.*'], not_types: ['m.room.message'] } } }) });
    assert.ok(wildcard.rooms.join[roomB].timeline.events.every((e: Json) => e.type.startsWith('m.room.') && e.type !== 'm.room.message'));

    const stateFilter = await sync(alice, { filter: JSON.stringify({ room: { state: { types: ['m.room.create'] }, timeline: { limit: 1 } } }) });
    assert.deepEqual(
      stateFilter.rooms.join[roomA].state.events.map((e: Json) => e.type),
      ['m.room.create'],
    );
  });

  test('lazy-loaded members: only timeline senders (and the user), no redundant resends', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const carol = await registerUser(server);
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await join(carol, roomId);
    await join(bob, roomId);
    await send(carol, roomId, 'carol speaks');
    await send(bob, roomId, 'bob speaks');
    const lazy = { room: { state: { lazy_load_members: true }, timeline: { limit: 1 } } };
    const first = await sync(alice, { filter: JSON.stringify(lazy) });
    const members = (r: Json) =>
      r.state.events.filter((e: Json) => e.type === 'm.room.member').map((e: Json) => e.state_key).sort();
    const room = first.rooms.join[roomId];
    assert.deepEqual(bodies(room.timeline.events), ['bob speaks']);
    // Heroes (the room has no name) are included too: bob and carol.
    assert.deepEqual(members(room), [alice.userId, bob.userId, carol.userId].sort());
    const noHeroes = await sync(alice, {
      filter: JSON.stringify({ room: { ...lazy.room, rooms: [roomId] } }),
    });
    assert.ok(members(noHeroes.rooms.join[roomId]).includes(bob.userId));

    // Named room: no heroes, so carol (who did not speak in the timeline) is left out.
    await api(server, 'PUT', `${V3}/rooms/${enc(roomId)}/state/m.room.name`, { token: alice.accessToken, body: { name: 'named' } });
    await send(bob, roomId, 'bob again');
    const named = await sync(bob, { filter: JSON.stringify(lazy) });
    assert.deepEqual(members(named.rooms.join[roomId]), [bob.userId]);

    await send(bob, roomId, 'bob once more');
    const inc = await sync(bob, { since: named.next_batch, filter: JSON.stringify(lazy) });
    assert.deepEqual(members(inc.rooms.join[roomId]), [], 'bob’s member event was already sent');
    const redundant = { room: { state: { lazy_load_members: true, include_redundant_members: true }, timeline: { limit: 1 } } };
    const inc2 = await sync(bob, { since: named.next_batch, filter: JSON.stringify(redundant) });
    assert.deepEqual(members(inc2.rooms.join[roomId]), [bob.userId]);

    const messages = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, {
      token: bob.accessToken,
      query: { dir: 'b', limit: '1', filter: JSON.stringify({ lazy_load_members: true }) },
    });
    assert.deepEqual(messages.body.state.map((e: Json) => e.state_key), [bob.userId]);
  });

  test('an invite appears in rooms.invite with stripped state; a leave appears in rooms.leave', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice, { name: 'Invite room', preset: 'private_chat' });
    const before = await sync(bob);
    await post(alice, `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId });
    const res = await sync(bob, { since: before.next_batch, timeout: '10000' });
    const inv = res.rooms.invite[roomId];
    assert.ok(inv, JSON.stringify(res.rooms));
    const types = inv.invite_state.events.map((e: Json) => e.type);
    assert.ok(types.includes('m.room.name'));
    assert.ok(types.includes('m.room.create'));
    const me = inv.invite_state.events.find((e: Json) => e.type === 'm.room.member');
    assert.equal(me.state_key, bob.userId);
    assert.equal(me.content.membership, 'invite');
    for (const e of inv.invite_state.events) assert.deepEqual(Object.keys(e).sort(), ['content', 'sender', 'state_key', 'type']);

    await join(bob, roomId);
    const joined = await sync(bob, { since: res.next_batch });
    assert.ok(joined.rooms.join[roomId], 'now in join');
    assert.equal(joined.rooms.invite, undefined);
    const joinedRoom = joined.rooms.join[roomId];
    assert.ok(
      [...joinedRoom.state.events, ...joinedRoom.timeline.events].some((e: Json) => e.type === 'm.room.create'),
      'a new join gets the whole room',
    );

    await send(alice, roomId, 'before the leave');
    await post(bob, `/rooms/${enc(roomId)}/leave`);
    await send(alice, roomId, 'after the leave');
    const left = await sync(bob, { since: joined.next_batch });
    const leaveRoom = left.rooms.leave[roomId];
    assert.ok(leaveRoom);
    const last = leaveRoom.timeline.events[leaveRoom.timeline.events.length - 1];
    assert.equal(last.type, 'm.room.member');
    assert.equal(last.content.membership, 'leave');
    assert.deepEqual(bodies(leaveRoom.timeline.events), ['before the leave']);
    assert.equal(left.rooms.join, undefined);

    const initialNoLeave = await sync(bob);
    assert.equal(initialNoLeave.rooms.leave, undefined, 'initial sync hides left rooms by default');
    const initialLeave = await sync(bob, { filter: JSON.stringify({ room: { include_leave: true } }) });
    assert.ok(initialLeave.rooms.leave[roomId]);
  });

  test('account data and tags appear, globally and per room, and wake a long poll', async () => {
    const alice = await registerUser(server);
    const roomId = await createRoom(alice);
    const start = await sync(alice);
    const polling = sync(alice, { since: start.next_batch, timeout: '10000' });
    await api(server, 'PUT', `${V3}/user/${enc(alice.userId)}/account_data/org.example.test`, {
      token: alice.accessToken,
      body: { hello: 'world' },
    });
    const woke = await polling;
    assert.deepEqual(woke.account_data.events, [{ type: 'org.example.test', content: { hello: 'world' } }]);

    await api(server, 'PUT', `${V3}/user/${enc(alice.userId)}/rooms/${enc(roomId)}/tags/m.favourite`, {
      token: alice.accessToken,
      body: { order: 0.5 },
    });
    const tagged = await sync(alice, { since: woke.next_batch });
    assert.deepEqual(tagged.rooms.join[roomId].account_data.events, [{ type: 'm.tag', content: { tags: { 'm.favourite': { order: 0.5 } } } }]);
    const initial = await sync(alice, { filter: JSON.stringify({ account_data: { not_types: ['org.example.*'] } }) });
    assert.deepEqual(initial.account_data.events, []);
    assert.equal(initial.rooms.join[roomId].account_data.events[0].type, 'm.tag');
  });

  test('unread counts: messages from others since the user last spoke, highlights on mentions', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await join(bob, roomId);
    await send(bob, roomId, 'hello');
    await send(bob, roomId, `hey ${alice.localpart}, look`);
    await send(bob, roomId, 'pinging', { 'm.mentions': { user_ids: [alice.userId] } });
    const res = await sync(alice);
    assert.deepEqual(res.rooms.join[roomId].unread_notifications, { notification_count: 3, highlight_count: 2 });
    await send(alice, roomId, 'read it all');
    const own = await sync(alice);
    assert.deepEqual(own.rooms.join[roomId].unread_notifications, { notification_count: 0, highlight_count: 0 });
  });

  test('history visibility "joined": a late joiner sees nothing from before via sync, /messages or /context', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoom(alice, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
    });
    const secret = await send(alice, roomId, 'secret');
    await join(bob, roomId);
    await send(alice, roomId, 'public');
    const s = await sync(bob);
    assert.deepEqual(bodies(s.rooms.join[roomId].timeline.events), ['public']);
    const msgs = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, { token: bob.accessToken, query: { dir: 'b', limit: '50' } });
    assert.deepEqual(bodies(msgs.body.chunk), ['public']);
    assertError(await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/context/${enc(secret)}`, { token: bob.accessToken }), 404, 'M_NOT_FOUND');
    const ctx = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/context/${enc(secret)}`, {
      token: alice.accessToken,
      query: { limit: '4' },
    });
    assert.equal(ctx.status, 200, JSON.stringify(ctx.body));
    assert.equal(ctx.body.event.event_id, secret);
    assert.deepEqual(bodies(ctx.body.events_after), ['public']);
    assert.equal(ctx.body.events_before.length, 2);
    assert.ok(ctx.body.state.some((e: Json) => e.type === 'm.room.create'));
    const back = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/messages`, {
      token: alice.accessToken,
      query: { dir: 'b', from: ctx.body.end, limit: '3' },
    });
    assert.deepEqual(bodies(back.body.chunk), ['public', 'secret'], 'context tokens work with /messages');
  });

  test('bad parameters get the spec’s errors', async () => {
    const alice = await registerUser(server);
    const outsider = await registerUser(server);
    const roomId = await createRoom(alice);
    const get = (user: TestUser, path: string, query: Record<string, string>) => api(server, 'GET', `${V3}${path}`, { token: user.accessToken, query });
    assertError(await get(alice, '/sync', { since: 'garbage' }), 400, 'M_INVALID_PARAM');
    assertError(await get(alice, '/sync', { timeout: 'soon' }), 400, 'M_INVALID_PARAM');
    assertError(await get(alice, '/sync', { filter: '{not json' }), 400, 'M_INVALID_PARAM');
    assertError(await get(alice, '/sync', { filter: '{"room":{"timeline":{"limit":"ten"}}}' }), 400, 'M_INVALID_PARAM');
    assertError(await get(alice, '/sync', { filter: '12345' }), 400, 'M_INVALID_PARAM');
    assertError(await get(alice, '/sync', { set_presence: 'busy' }), 400, 'M_INVALID_PARAM');
    assertError(await api(server, 'GET', `${V3}/sync`), 401, 'M_MISSING_TOKEN');
    const messages = `/rooms/${enc(roomId)}/messages`;
    assertError(await get(alice, messages, {}), 400, 'M_MISSING_PARAM');
    assertError(await get(alice, messages, { dir: 'x' }), 400, 'M_INVALID_PARAM');
    assertError(await get(alice, messages, { dir: 'b', from: 'nonsense' }), 400, 'M_INVALID_PARAM');
    assertError(await get(alice, messages, { dir: 'b', limit: '-1' }), 400, 'M_INVALID_PARAM');
    assertError(await get(alice, messages, { dir: 'b', filter: '[]' }), 400, 'M_INVALID_PARAM');
    assertError(await get(outsider, messages, { dir: 'b' }), 403, 'M_FORBIDDEN');
    assertError(await get(alice, `/rooms/${enc('!nope:localhost')}/messages`, { dir: 'b' }), 404, 'M_NOT_FOUND');
    assertError(await get(alice, `/rooms/${enc(roomId)}/context/${enc('$missing')}`, {}), 404, 'M_NOT_FOUND');
    const sync0 = await get(alice, '/sync', { set_presence: 'offline', full_state: 'true', timeout: '100000' });
    assert.equal(sync0.status, 200, 'full_state answers at once and set_presence is accepted');
  });
});
