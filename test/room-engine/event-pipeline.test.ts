import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEvent } from '../../src/core/event-builder.js';
import { stateKeyOf } from '../../src/core/pdu.js';
import { getRoomVersion } from '../../src/rooms/versions.js';
import { makeEngine } from './engine-fixture.js';

const ALICE = '@alice:hs';

test('createRoom persists a linear chain with current state, membership and one extremity', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE, { preset: 'public_chat', name: 'Room' });
  assert.match(roomId, /^!/);
  const room = await e.store.getRoom(roomId);
  assert.deepEqual(room, { roomId, version: '12', creator: ALICE, isPublic: false });

  const state = await e.store.getCurrentState(roomId);
  for (const t of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.history_visibility', 'm.room.name']) {
    assert.ok(state.has(stateKeyOf(t, '')), t);
  }
  assert.ok(state.has(stateKeyOf('m.room.member', ALICE)));
  const member = await e.store.getMembership(roomId, ALICE);
  assert.equal(member?.membership, 'join');

  const extremities = await e.store.getForwardExtremities(roomId);
  assert.equal(extremities.length, 1);
  assert.equal(extremities[0], state.get(stateKeyOf('m.room.name', '')));

  // v12: the room ID is derived from the create event's ID.
  const create = state.get(stateKeyOf('m.room.create', ''))!;
  assert.equal(roomId, `!${create.slice(1)}`);
  assert.equal(e.announced.length, 7);
  const depths = e.announced.map((a) => a.event.depth);
  assert.deepEqual(depths, [1, 2, 3, 4, 5, 6, 7]);
});

test('state groups give the state before and after each event', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE, { name: 'A' });
  const nameId = (await e.store.getCurrentStateEvent(roomId, 'm.room.name', ''))!.event.eventId;
  const before = await e.store.getStateBefore(nameId);
  const after = await e.store.getStateAfter(nameId);
  assert.equal(before?.has(stateKeyOf('m.room.name', '')), false);
  assert.equal(after?.get(stateKeyOf('m.room.name', '')), nameId);
  assert.equal(after?.size, (before?.size ?? 0) + 1);

  const sent = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'x' } });
  assert.ok(sent.ok);
  const g = await e.store.getEventStateGroups(sent.event.eventId);
  assert.ok(g);
  assert.equal(g.before, g.after, 'a message does not change state');
  assert.deepEqual(await e.store.getStateBefore(sent.event.eventId), after);
});

test('transaction IDs make sends idempotent per device', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE);
  const txn = { userId: ALICE, deviceId: 'D', txnId: 't1' };
  const a = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: '1' } }, txn);
  const b = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: '2' } }, txn);
  const c = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: '3' } }, { ...txn, deviceId: 'E' });
  assert.ok(a.ok && b.ok && c.ok);
  assert.equal(a.event.eventId, b.event.eventId);
  assert.notEqual(a.event.eventId, c.event.eventId);
  assert.deepEqual(await e.store.getTxnForEvent(a.event.eventId), txn);
});

test('concurrent sends to one room stay linear', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE);
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: String(i) } }),
    ),
  );
  for (const r of results) {
    assert.ok(r.ok);
    assert.equal(r.event.prevEventIds.length, 1);
  }
  assert.equal((await e.store.getForwardExtremities(roomId)).length, 1);
  const depths = new Set(results.map((r) => (r.ok ? r.event.depth : 0)));
  assert.equal(depths.size, 20);
});

test('a fork is merged by the next event, whose state is the resolution of both sides', async () => {
  const e = makeEngine();
  const version = getRoomVersion('12')!;
  const roomId = await e.createRoom(ALICE);
  const [tip] = await e.store.getForwardExtremities(roomId);
  const tipEvent = (await e.store.getEvent(tip))!.event;
  const state = (await e.store.getStateAfter(tip))!;
  // v12: the create event is implied by the room ID and not cited.
  const auth = [state.get(stateKeyOf('m.room.power_levels', ''))!, state.get(stateKeyOf('m.room.member', ALICE))!];
  const side = (key: string, value: string) =>
    buildEvent(
      {
        type: 'm.room.topic',
        stateKey: key,
        sender: ALICE,
        content: { topic: value },
        roomId,
        prevEvents: [tip],
        authEvents: auth,
        depth: tipEvent.depth + 1,
        originServerTs: 5,
      },
      version,
      'hs',
      e.key,
    ).pdu;
  const left = await e.pipeline.accept(side('left', 'L'), version, { origin: 'local' });
  const right = await e.pipeline.accept(side('right', 'R'), version, { origin: 'local' });
  assert.equal(left.status, 'persisted');
  assert.equal(right.status, 'persisted');
  assert.equal((await e.store.getForwardExtremities(roomId)).length, 2);
  const current = await e.store.getCurrentState(roomId);
  assert.ok(current.has(stateKeyOf('m.room.topic', 'left')) && current.has(stateKeyOf('m.room.topic', 'right')));

  const merged = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'm' } });
  assert.ok(merged.ok);
  assert.equal(merged.event.prevEventIds.length, 2);
  const before = (await e.store.getStateBefore(merged.event.eventId))!;
  assert.ok(before.has(stateKeyOf('m.room.topic', 'left')) && before.has(stateKeyOf('m.room.topic', 'right')));
  assert.deepEqual(await e.store.getForwardExtremities(roomId), [merged.event.eventId]);
});

test('duplicates are recognised and invalid events are dropped', async () => {
  const e = makeEngine();
  const version = getRoomVersion('12')!;
  const roomId = await e.createRoom(ALICE);
  const sent = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'x' } });
  assert.ok(sent.ok);
  const again = await e.pipeline.accept(sent.event.pdu, version, { origin: 'remote' });
  assert.equal(again.status, 'duplicate');
  const tampered = { ...sent.event.pdu, content: { body: 'y' }, origin_server_ts: 7 };
  const bad = await e.pipeline.accept(tampered, version, { origin: 'remote' });
  assert.equal(bad.status, 'invalid');
  const garbage = await e.pipeline.accept({ type: 5 }, version, { origin: 'remote' });
  assert.equal(garbage.status, 'invalid');
});

test('redactions take effect on events in the same room and are found again', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE);
  const msg = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'x' } });
  assert.ok(msg.ok);
  const red = await e.creator.send(roomId, { type: 'm.room.redaction', sender: ALICE, content: {}, redacts: msg.event.eventId });
  assert.ok(red.ok);
  const found = await e.store.getRedactionOf(msg.event.eventId);
  assert.equal(found?.event.eventId, red.event.eventId);
  assert.equal(await e.store.getRedactionOf(red.event.eventId), undefined);
});

test('timeline reads: by stream and by topology, both directions', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE);
  const start = await e.store.getMaxStreamOrdering();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: String(i) } });
    assert.ok(r.ok);
    ids.push(r.event.eventId);
  }
  const end = await e.store.getMaxStreamOrdering();
  const fwd = await e.store.getRoomEventsByStream(roomId, start, end, 3, 'f');
  assert.deepEqual(fwd.map((s) => s.event.eventId), ids.slice(0, 3));
  const back = await e.store.getRoomEventsByStream(roomId, start, end, 2, 'b');
  assert.deepEqual(back.map((s) => s.event.eventId), [ids[4], ids[3]]);
  const last = (await e.store.getEvent(ids[4]))!;
  const topo = await e.store.getRoomEventsByTopology(roomId, { depth: last.event.depth, streamOrdering: last.streamOrdering }, 'b', 2);
  assert.deepEqual(topo.map((s) => s.event.eventId), [ids[3], ids[2]]);
  const inRooms = await e.store.getEventsInRooms([roomId], start, end);
  assert.equal(inRooms.length, 5);
  const changes = await e.store.getMembershipChanges(ALICE, 0, end);
  assert.deepEqual(changes.map((c) => c.membership), ['join']);
});

test('older room versions get server-made room IDs and hashed references', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE, {}, '1');
  assert.match(roomId, /^![A-Za-z0-9_-]+:hs$/);
  const r = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'x' } });
  assert.ok(r.ok, r.ok ? '' : r.error);
  assert.ok(Array.isArray(r.event.pdu.prev_events[0]));
  assert.match(r.event.eventId, /:hs$/);
});

test('state groups are stored as deltas and cut into snapshots', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE);
  for (let i = 0; i < 120; i++) {
    const r = await e.creator.send(roomId, { type: 'm.room.topic', stateKey: `k${i}`, sender: ALICE, content: { topic: String(i) } });
    assert.ok(r.ok);
  }
  const maxDepth = e.db.prepare('SELECT MAX(delta_depth) AS d FROM state_groups').get() as { d: number };
  assert.ok(maxDepth.d < 100);
  const snapshots = e.db.prepare('SELECT COUNT(*) AS n FROM state_groups WHERE prev_group IS NULL').get() as { n: number };
  assert.ok(snapshots.n >= 2);
  const current = await e.store.getCurrentState(roomId);
  const [tip] = await e.store.getForwardExtremities(roomId);
  // Read through a fresh store so the group cache does not answer.
  const { SqliteEventStore } = await import('../../src/storage/sqlite/event-store.js');
  const fresh = new SqliteEventStore(e.db);
  assert.deepEqual(new Map([...((await fresh.getStateAfter(tip)) ?? [])].sort()), new Map([...current].sort()));
});

test('a large room keeps short deltas between sparse snapshots, and every group reads back the same from a cold store', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE, { preset: 'public_chat' });
  const ids: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const user = `@u${i}:hs`;
    const r = await e.creator.send(roomId, { type: 'm.room.member', stateKey: user, sender: user, content: { membership: 'join' } });
    assert.ok(r.ok);
    ids.push(r.event.eventId);
  }
  // Snapshots are written about every size/10 changes, not every 100: the stored entries stay
  // within a small multiple of the number of events instead of growing with their square.
  const entries = e.db.prepare('SELECT COUNT(*) AS n FROM state_group_entries').get() as { n: number };
  assert.ok(entries.n < 1500 * 15, `${entries.n} state group entries`);
  const { SqliteEventStore } = await import('../../src/storage/sqlite/event-store.js');
  const fresh = new SqliteEventStore(e.db);
  for (const [i, id] of ids.entries()) {
    if (i % 37 !== 0 && i !== ids.length - 1) continue;
    const warm = (await e.store.getStateAfter(id))!;
    const cold = (await fresh.getStateAfter(id))!;
    assert.equal(cold.size, warm.size);
    assert.deepEqual(new Map([...cold].sort()), new Map([...warm].sort()));
    assert.equal(cold.get(stateKeyOf('m.room.member', `@u${i}:hs`)), id);
    assert.equal((await fresh.getStateBefore(id))!.has(stateKeyOf('m.room.member', `@u${i}:hs`)), false);
  }
  const current = await e.store.getCurrentState(roomId);
  assert.deepEqual(new Map([...((await fresh.getStateAfter(ids[ids.length - 1])) ?? [])].sort()), new Map([...current].sort()));
  assert.deepEqual(await e.store.getJoinedServers(roomId), ['hs']);
  assert.equal(await e.store.hasJoinedMemberOn(roomId, 'hs'), true);
  assert.equal(await e.store.hasJoinedMemberOn(roomId, 'elsewhere'), false);
  assert.equal(await e.store.hasJoinedMemberOn('!nowhere:hs', 'hs'), false);
  const some = await e.store.getCurrentStateEntries(roomId, [
    ['m.room.create', ''],
    ['m.room.member', '@u5:hs'],
    ['m.room.member', '@nobody:hs'],
  ]);
  assert.deepEqual(
    some,
    new Map([
      [stateKeyOf('m.room.create', ''), current.get(stateKeyOf('m.room.create', ''))],
      [stateKeyOf('m.room.member', '@u5:hs'), ids[5]],
    ]),
  );
});

test('remote events: failing auth is stored as rejected; passing the prev state but not the current state soft-fails', async () => {
  const e = makeEngine();
  const version = getRoomVersion('12')!;
  const roomId = await e.createRoom(ALICE, { preset: 'public_chat' });
  const BOB = '@bob:hs';
  const joined = await e.creator.send(roomId, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' } });
  assert.ok(joined.ok);
  const stateAtJoin = (await e.store.getStateAfter(joined.event.eventId))!;
  const pl = stateAtJoin.get(stateKeyOf('m.room.power_levels', ''))!;
  const message = (sender: string, memberEvent: string, body: string) =>
    buildEvent(
      {
        type: 'm.room.message',
        sender,
        content: { body },
        roomId,
        prevEvents: [joined.event.eventId],
        authEvents: [pl, memberEvent],
        depth: joined.event.depth + 1,
        originServerTs: 9,
      },
      version,
      'hs',
      e.key,
    ).pdu;

  // Carol never joined: her message cites Bob's membership, which the auth events list refuses.
  const carol = await e.pipeline.accept(message('@carol:hs', joined.event.eventId, 'x'), version, { origin: 'remote' });
  assert.equal(carol.status, 'rejected');
  if (carol.status === 'rejected') {
    const stored = await e.store.getEvent(carol.event.eventId);
    assert.ok(stored?.rejectedReason);
  }

  // Bob is banned afterwards; a message of his built on the older state soft-fails.
  const ban = await e.creator.send(roomId, { type: 'm.room.member', stateKey: BOB, sender: ALICE, content: { membership: 'ban' } });
  assert.ok(ban.ok);
  const late = await e.pipeline.accept(message(BOB, joined.event.eventId, 'late'), version, { origin: 'remote' });
  assert.equal(late.status, 'soft_failed');
  assert.deepEqual(await e.store.getForwardExtremities(roomId), [ban.event.eventId]);
  const timeline = await e.store.getRoomEventsByStream(roomId, 0, await e.store.getMaxStreamOrdering(), 100, 'f');
  assert.equal(timeline.some((s) => s.event.content.body === 'late'), false);

  // Local events that fail auth are refused and not stored at all.
  const refused = await e.creator.send(roomId, { type: 'm.room.message', sender: BOB, content: { body: 'banned' } });
  assert.equal(refused.ok, false);
  if (!refused.ok) assert.equal(refused.errcode, 'M_FORBIDDEN');
});
