import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getRoomVersion } from '../../src/rooms/versions.js';
import { SqliteFederationQueueStore } from '../../src/storage/sqlite/federation-queue-store.js';
import { makeEngine } from './engine-fixture.js';

const ALICE = '@alice:hs';
const BOB = '@bob:hs';

test('50 concurrent messages to one room are all persisted as one linear chain', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE, { preset: 'public_chat' });
  const before = e.announced.length;
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: String(i) } }),
    ),
  );
  const ids = results.map((r) => (r.ok ? r.event.eventId : assert.fail(r.error)));
  const stored = await e.store.getEvents(ids);
  assert.equal(stored.size, 50);
  // Each event builds on the one stored before it, whichever order the round took them in.
  const byStream = [...stored.values()].sort((a, b) => a.streamOrdering - b.streamOrdering);
  for (let i = 1; i < byStream.length; i++) {
    assert.deepEqual(byStream[i].event.prevEventIds, [byStream[i - 1].event.eventId]);
    assert.equal(byStream[i].event.depth, byStream[i - 1].event.depth + 1);
  }
  assert.deepEqual(await e.store.getForwardExtremities(roomId), [byStream[49].event.eventId]);
  assert.equal(e.announced.length - before, 50, 'each is announced once, after commit');
});

test('a send resolves only once its event is committed', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE);
  const sends = Array.from({ length: 5 }, (_, i) =>
    e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: String(i) } }).then((r) => {
      assert.ok(r.ok);
      assert.equal(e.db.inTransaction, false);
      const row = e.db.prepare('SELECT 1 AS x FROM events WHERE event_id = ?').get(r.event.eventId);
      assert.deepEqual(row, { x: 1 });
    }),
  );
  await Promise.all(sends);
});

test('a refused event in a batch does not sink the others', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE, { preset: 'public_chat' });
  const sends = [
    e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'ok 1' } }),
    // Bob never joined: refused by the auth rules.
    e.creator.send(roomId, { type: 'm.room.message', sender: BOB, content: { body: 'refused' } }),
    e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'ok 2' } }),
  ];
  const [a, b, c] = await Promise.all(sends);
  assert.ok(a.ok && c.ok);
  assert.equal(b.ok, false);
  assert.equal(!b.ok && b.errcode, 'M_FORBIDDEN');
  assert.deepEqual(c.event.prevEventIds, [a.event.eventId], 'the refused event is not part of the chain');
  assert.ok(await e.store.getEvent(c.event.eventId));
});

test('a repeated transaction ID within one batch yields one event', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE);
  const txn = { userId: ALICE, deviceId: 'D', txnId: 'same' };
  const [a, b] = await Promise.all([
    e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: '1' } }, txn),
    e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: '1' } }, txn),
  ]);
  assert.ok(a.ok && b.ok);
  assert.equal(a.event.eventId, b.event.eventId);
});

test('messages in many rooms commit together and each room stays linear', async () => {
  const e = makeEngine();
  const rooms = [];
  for (let i = 0; i < 5; i++) rooms.push(await e.createRoom(ALICE));
  const results = await Promise.all(
    rooms.flatMap((roomId) =>
      Array.from({ length: 10 }, (_, i) => e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: String(i) } })),
    ),
  );
  assert.ok(results.every((r) => r.ok));
  for (const roomId of rooms) assert.equal((await e.store.getForwardExtremities(roomId)).length, 1);
});

test('a storage failure part-way through a chain keeps the events before it and fails the rest', async () => {
  const e = makeEngine();
  const roomId = await e.createRoom(ALICE);
  const first = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'first' } });
  assert.ok(first.ok);
  const stored = (await e.store.getEvent(first.event.eventId))!;
  const fresh = { ...stored.event, eventId: '$fresh-not-stored' };
  // The same event twice: the second insert breaks the UNIQUE event_id constraint.
  const chain = await e.store.persistEvents([
    { event: fresh, outlier: true },
    { event: fresh, outlier: true },
    { event: { ...fresh, eventId: '$after-the-failure' }, outlier: true },
  ]);
  assert.equal(chain.persisted.length, 1);
  assert.ok(chain.error);
  assert.ok(await e.store.getEvent('$fresh-not-stored'));
  assert.equal(await e.store.getEvent('$after-the-failure'), undefined);
});

test('a received transaction’s answer goes into the chain’s storage transaction, and only when the whole chain is stored', async () => {
  const e = makeEngine();
  const txns = new SqliteFederationQueueStore(e.db);
  const roomId = await e.createRoom(ALICE);
  const sent = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'x' } });
  assert.ok(sent.ok);
  const base = (await e.store.getEvent(sent.event.eventId))!.event;
  const outlier = (eventId: string) => ({ event: { ...base, eventId }, outlier: true });
  const record = (txnId: string) => ({ origin: 'hs1.test', txnId, result: { pdus: { [txnId]: {} } }, ts: 1 });

  const ok = await e.store.persistEvents([outlier('$a'), outlier('$b')], { inboundTxn: record('t-ok') });
  assert.equal(ok.error, undefined);
  assert.equal(ok.inboundTxnStored, true);
  assert.deepEqual(await txns.getTxnResult('hs1.test', 't-ok'), { pdus: { 't-ok': {} } });

  // A chain failing part-way keeps the events before the failure, but not the answer.
  const failed = await e.store.persistEvents([outlier('$c'), outlier('$c')], { inboundTxn: record('t-failed') });
  assert.ok(failed.error);
  assert.notEqual(failed.inboundTxnStored, true);
  assert.ok(await e.store.getEvent('$c'));
  assert.equal(await txns.getTxnResult('hs1.test', 't-failed'), undefined);

  // An empty chain stores the answer alone.
  const alone = await e.store.persistEvents([], { inboundTxn: record('t-alone') });
  assert.equal(alone.inboundTxnStored, true);
  assert.deepEqual(await txns.getTxnResult('hs1.test', 't-alone'), { pdus: { 't-alone': {} } });

  // When the answer cannot be written, the chain's events are not kept either.
  e.db.exec('DROP TABLE federation_inbound_txns');
  await assert.rejects(e.store.persistEvents([outlier('$d')], { inboundTxn: record('t-broken') }));
  assert.equal(await e.store.getEvent('$d'), undefined);
});

test('acceptBatch hands the record the outcomes and stores it even when no event is to be stored', async () => {
  const e = makeEngine();
  const txns = new SqliteFederationQueueStore(e.db);
  const roomId = await e.createRoom(ALICE);
  const sent = await e.creator.send(roomId, { type: 'm.room.message', sender: ALICE, content: { body: 'x' } });
  assert.ok(sent.ok);
  const version = getRoomVersion('12')!;
  const seen: string[] = [];
  const done = await e.pipeline.acceptBatch([{ raw: sent.event.pdu, version, opts: { origin: 'remote' } }], {
    inboundTxn: (outcomes) => {
      seen.push(...outcomes.map((o) => o.status));
      return { origin: 'hs1.test', txnId: 'dup', result: { pdus: { [sent.event.eventId]: {} } }, ts: 1 };
    },
  });
  assert.deepEqual(seen, ['duplicate']);
  assert.deepEqual(done.outcomes.map((o) => o.status), ['duplicate']);
  assert.equal(done.inboundTxnStored, true);
  assert.deepEqual(await txns.getTxnResult('hs1.test', 'dup'), { pdus: { [sent.event.eventId]: {} } });
});
