import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { FederationError } from '../../federation/client/federation-client.js';
import { FederationSender, type TransactionSender } from '../../federation/sender/federation-sender.js';
import type { JsonObject } from '../../src/core/json.js';
import type { RoomEvent } from '../../src/core/pdu.js';
import type { PersistedRoomEvent } from '../../src/room-engine/event-pipeline.js';
import type { StoredEvent } from '../../src/storage/event-store.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

const logger = pino({ level: 'silent' });
const ROOM = '!r:me.test';

function fakeEvent(n: number, roomId = ROOM, type = 'm.room.message', stateKey?: string): RoomEvent {
  const eventId = `$e${n}-${roomId}`;
  const pdu = { type, room_id: roomId, sender: '@a:me.test', content: { n }, depth: n, prev_events: [], auth_events: [], origin_server_ts: n, hashes: { sha256: 'x' }, signatures: {} };
  return { eventId, roomId, type, stateKey, sender: '@a:me.test', content: { n }, originServerTs: n, depth: n, prevEventIds: [], authEventIds: [], redacts: undefined, pdu };
}

function setup(storage = SqliteStorage.open(':memory:')) {
  const events = new Map<string, RoomEvent>();
  const sent: Array<{ dest: string; txnId: string; body: JsonObject }> = [];
  let failWith: Error | undefined;
  let now = 1_000;
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const client: TransactionSender = {
    async request<T>(dest: string, _m: string, path: string, opts: { body: JsonObject }): Promise<T> {
      if (gate) await gate;
      sent.push({ dest, txnId: decodeURIComponent(path.split('/').pop()!), body: opts.body });
      if (failWith) throw failWith;
      return { pdus: {} } as T;
    },
  };
  const members = ['@a:me.test', '@b:other.test', '@c:third.test'];
  let memberReads = 0;
  const sender = new FederationSender({
    serverName: 'me.test',
    queue: storage.federationQueue,
    events: {
      async getEvent(id) {
        const event = events.get(id);
        return event && ({ event, streamOrdering: 1, rejectedReason: undefined, outlier: false, softFailed: false } as StoredEvent);
      },
      async getRoomMembers() {
        memberReads++;
        return members.map((userId) => ({ roomId: ROOM, userId, membership: 'join', eventId: '', streamOrdering: 0, forgotten: false }));
      },
    },
    client,
    logger,
    now: () => now,
    baseBackoffMs: 60_000,
  });
  const persist = (e: RoomEvent, origin: 'local' | 'remote' = 'local') => {
    events.set(e.eventId, e);
    sender.onPersisted({ event: e, origin, streamOrdering: 0, version: {} } as unknown as PersistedRoomEvent);
  };
  const settle = () => new Promise((r) => setTimeout(r, 30));
  return {
    storage, sender, sent, persist, settle, members,
    memberReads: () => memberReads,
    fail: (e: Error | undefined) => (failWith = e),
    advance: (ms: number) => (now += ms),
    hold: () => (gate = new Promise((r) => (release = r))),
    unhold: () => { gate = undefined; release?.(); },
  };
}

test('local events go to every other server in the room, remote ones nowhere', async () => {
  const s = setup();
  s.persist(fakeEvent(1));
  s.persist(fakeEvent(2), 'remote');
  await s.settle();
  assert.deepEqual(s.sent.map((x) => x.dest).sort(), ['other.test', 'third.test']);
  for (const x of s.sent) {
    assert.equal(x.body.origin, 'me.test');
    assert.deepEqual((x.body.pdus as JsonObject[]).map((p) => (p.content as JsonObject).n), [1]);
  }
  assert.deepEqual(await s.storage.federationQueue.destinationsWithPending(), []);
});

test('transactions hold at most 50 PDUs; a failed one is retried with the same ID after back-off', async () => {
  const s = setup();
  s.members.splice(2);
  s.hold();
  for (let i = 1; i <= 60; i++) s.persist(fakeEvent(i));
  await s.settle();
  s.fail(new FederationError(0, 'M_UNKNOWN', 'refused', 'network'));
  s.unhold();
  await s.settle();
  const first = s.sent[0];
  assert.ok((first.body.pdus as unknown[]).length <= 50);
  assert.equal(s.sent.length, 1, 'backing off after the failure');
  const state = await s.storage.federationQueue.getDestination('other.test');
  assert.equal(state?.failures, 1);
  // An inbound request from the destination ends the back-off; the same transaction goes again.
  s.fail(undefined);
  s.sender.markAlive('other.test');
  await s.settle();
  assert.equal(s.sent[1].txnId, first.txnId);
  assert.deepEqual(s.sent[1].body.pdus, first.body.pdus);
  const total = s.sent.slice(1).reduce((n, x) => n + (x.body.pdus as unknown[]).length, 0);
  assert.ok(total <= 60 && total >= 11, `catch-up still sends the newest events (${total})`);
  assert.deepEqual(await s.storage.federationQueue.destinationsWithPending(), []);
  s.sender.stop();
});

test('EDUs coalesce by key while unsent; 4xx-refused transactions are dropped, not retried forever', async () => {
  const s = setup();
  // Queued while nothing is in flight (as during a back-off): the newer typing EDU replaces the older.
  const q = s.storage.federationQueue;
  await q.enqueueEdu(['other.test'], { edu_type: 'm.typing', content: { typing: true } }, 'typing:a');
  await q.enqueueEdu(['other.test'], { edu_type: 'm.typing', content: { typing: false } }, 'typing:a');
  await s.sender.sendEdu(['other.test', 'me.test'], 'm.receipt', { x: 1 });
  await s.settle();
  assert.deepEqual(s.sent.map((x) => x.dest), ['other.test'], 'never to ourselves');
  const edus = s.sent.flatMap((x) => x.body.edus as JsonObject[]);
  assert.deepEqual(edus, [
    { edu_type: 'm.typing', content: { typing: false } },
    { edu_type: 'm.receipt', content: { x: 1 } },
  ]);
  s.fail(new FederationError(400, 'M_BAD_JSON', 'no', 'http'));
  await s.sender.sendEdu(['other.test'], 'm.receipt', { x: 2 });
  await s.settle();
  assert.deepEqual(await s.storage.federationQueue.destinationsWithPending(), []);
});

test('the queue survives a restart: a new sender resumes what was not delivered', async () => {
  const s = setup();
  s.members.splice(2);
  s.fail(new FederationError(502, 'M_UNKNOWN', 'down', 'http'));
  s.persist(fakeEvent(7));
  await s.settle();
  s.sender.stop();
  assert.deepEqual(await s.storage.federationQueue.destinationsWithPending(), ['other.test']);
  const again = setup(s.storage);
  await again.storage.federationQueue.setDestination({ destination: 'other.test', failures: 0, retryAfterTs: 0 });
  // The new sender reads the queued event from the event store (remote origin: not queued again).
  again.persist(fakeEvent(7), 'remote');
  await again.sender.start();
  await again.settle();
  assert.deepEqual(again.sent.map((x) => (x.body.pdus as JsonObject[]).map((p) => (p.content as JsonObject).n)), [[7]]);
  assert.equal(again.sent[0].txnId, s.sent[0].txnId, 'same transaction ID as before the restart');
});

test('joins add their server to the cached servers of a room; other memberships re-read the members', async () => {
  const s = setup();
  s.members.splice(1);
  assert.deepEqual(await s.sender.serversInRoom(ROOM), ['me.test']);
  const member = (n: number, userId: string, membership: string) => {
    const e = fakeEvent(n, ROOM, 'm.room.member', userId);
    return { ...e, content: { membership }, pdu: { ...e.pdu, state_key: userId, content: { membership } } };
  };
  for (let i = 0; i < 50; i++) {
    s.members.push(`@u${i}:far.test`);
    s.persist(member(100 + i, `@u${i}:far.test`, 'join'), 'remote');
  }
  assert.deepEqual(await s.sender.serversInRoom(ROOM), ['me.test', 'far.test']);
  assert.equal(s.memberReads(), 1, 'joins did not re-read the member list');
  s.members.splice(1);
  s.persist(member(200, '@u0:far.test', 'leave'), 'remote');
  assert.deepEqual(await s.sender.serversInRoom(ROOM), ['me.test']);
  assert.equal(s.memberReads(), 2);
  s.sender.stop();
});
