/**
 * Inbound transactions in one process (servers-fixture): the PDUs of a transaction stored in one
 * storage transaction with their own results, a PDU that lands past a gap the origin's
 * get_missing_events cannot close, idempotency across a restart of the store, and the server ACL
 * applied per PDU.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { EduRegistry } from '../../federation/edu/edu-registry.js';
import { ServerAcls } from '../../federation/http/server-acls.js';
import { type RemoteFetcher, TransactionHandler } from '../../federation/inbound/transaction-handler.js';
import { buildEvent } from '../../src/core/event-builder.js';
import type { JsonObject } from '../../src/core/json.js';
import { type Pdu, stateKeyOf } from '../../src/core/pdu.js';
import { getRoomVersion } from '../../src/rooms/versions.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { type TestServer, TestFederation } from './servers-fixture.js';

const TXN = (n: string) => ({ userId: '@x:x', deviceId: 'D', txnId: n });
const logger = pino({ level: 'silent' });

/** Serves `to`'s room reads to the handler as if over federation; records what was asked. */
function fetcherFor(to: TestServer, origin: string, asked: string[]): RemoteFetcher {
  return {
    async request<T>(_destination: string, method: string, path: string, opts: { query?: Record<string, string>; body?: JsonObject } = {}): Promise<T> {
      const [, , , , name, a] = path.split('/').map(decodeURIComponent);
      asked.push(`${method} ${name}`);
      if (name === 'get_missing_events') return (await to.reads.missingEvents(origin, a, opts.body as never)) as T;
      if (name === 'state_ids') return (await to.reads.stateIds(origin, a, String(opts.query?.event_id))) as T;
      if (name === 'event') return (await to.reads.event(origin, a)) as T;
      throw new Error(`unexpected request ${method} ${path}`);
    },
  };
}

function handlerFor(server: TestServer, client: RemoteFetcher, storage = server.storage, edus = new EduRegistry(logger)): TransactionHandler {
  return new TransactionHandler({
    serverName: server.name,
    pipeline: server.rooms.pipeline,
    events: storage.events,
    txns: storage.inboundTxns,
    edus,
    acl: new ServerAcls(storage.events),
    client,
    logger,
    now: () => Date.now(),
  });
}

test('a PDU past a gap that get_missing_events cannot close is checked against the state at the gap (/state_ids)', async () => {
  const fed = new TestFederation();
  const { hs1, hs2, roomId } = await fed.publicRoomAcrossTwo();

  // hs2 misses a topic change and more events than one get_missing_events (20) brings.
  hs2.down = true;
  const topicId = await hs1.rooms.setState(roomId, '@alice:hs1.test', 'm.room.topic', '', { topic: 'set during the gap' });
  let last = topicId;
  for (let i = 0; i < 30; i++) last = await hs1.rooms.sendMessage(roomId, '@alice:hs1.test', 'm.room.message', { body: `m${i}` }, TXN(`m${i}`));
  await fed.flush();
  hs2.down = false;
  assert.equal(await hs2.storage.events.getEvent(topicId), undefined);

  const before = await hs2.storage.events.getForwardExtremities(roomId);
  const asked: string[] = [];
  const handler = handlerFor(hs2, fetcherFor(hs1, 'hs2.test', asked));
  const pdu = (await hs1.storage.events.getEvent(last))!.event.pdu;
  const result = await handler.handle('hs1.test', 'gap-1', { origin: 'hs1.test', pdus: [pdu], edus: [] });
  assert.deepEqual(result, { pdus: { [last]: {} } });
  assert.ok(asked.includes('POST get_missing_events'), asked.join(', '));
  assert.ok(asked.includes('GET state_ids'), asked.join(', '));

  // The event is in hs2's timeline, on top of the gap, and hs2's state agrees with hs1's.
  const stored = await hs2.storage.events.getEvent(last);
  assert.equal(stored?.outlier, false);
  assert.equal(stored?.softFailed, false);
  // What hs2 had before the gap stays an extremity too (hs2 never saw the events linking it to the
  // rest): its next event merges the two.
  assert.deepEqual(new Set(await hs2.storage.events.getForwardExtremities(roomId)), new Set([last, ...before]));
  const s1 = await hs1.storage.events.getCurrentState(roomId);
  const s2 = await hs2.storage.events.getCurrentState(roomId);
  assert.deepEqual(new Map([...s2].sort()), new Map([...s1].sort()));
  assert.equal(s2.get(stateKeyOf('m.room.topic', '')), topicId);
  // The topic event itself came as an outlier with the state at the gap.
  assert.equal((await hs2.storage.events.getEvent(topicId))?.outlier, true);
});

test('a transaction is answered the same after a restart: results are kept per origin and transaction ID', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'comet-txn-'));
  try {
    const fed = new TestFederation();
    const { hs1, hs2, roomId } = await fed.publicRoomAcrossTwo({ hs2Db: join(dir, 'hs2.db') });
    hs2.down = true;
    const msg = await hs1.rooms.sendMessage(roomId, '@alice:hs1.test', 'm.room.message', { body: 'once' }, TXN('once'));
    const pdu = (await hs1.storage.events.getEvent(msg))!.event.pdu;
    const noFetch: RemoteFetcher = {
      request: () => Promise.reject(new Error('nothing to fetch')),
    };
    const first = await handlerFor(hs2, noFetch).handle('hs1.test', 'txn-a', { origin: 'hs1.test', pdus: [pdu], edus: [] });
    assert.deepEqual(first, { pdus: { [msg]: {} } });
    hs2.storage.close();

    // Same store reopened, fresh handler: the retried transaction gets the stored answer even
    // though its body now differs; the same ID from another origin is a different transaction.
    const reopened = SqliteStorage.open(join(dir, 'hs2.db'));
    try {
      const handler = handlerFor(hs2, noFetch, reopened);
      assert.deepEqual(await handler.handle('hs1.test', 'txn-a', { origin: 'hs1.test', pdus: [], edus: [] }), first);
      assert.deepEqual(await handler.handle('hs3.test', 'txn-a', { origin: 'hs3.test', pdus: [], edus: [] }), { pdus: {} });
    } finally {
      reopened.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the server ACL is applied per PDU: a denied origin’s PDU is refused with an error, the others are kept', async () => {
  const fed = new TestFederation();
  const hs1 = await fed.addServer('hs1.test', ['alice']);
  const hs2 = await fed.addServer('hs2.test', ['bob']);
  const open = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'public_chat' });
  const closed = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'public_chat' });
  for (const r of [open, closed]) await hs2.rooms.join('@bob:hs2.test', r, undefined, ['hs1.test']);
  await fed.flush();
  await hs1.rooms.setState(closed, '@alice:hs1.test', 'm.room.server_acl', '', { allow: ['*'], deny: ['hs2.test'] });
  await fed.flush();

  // hs2 sends one message to each room; hs1 sees them only through the transaction.
  hs1.down = true;
  const inOpen = await hs2.rooms.sendMessage(open, '@bob:hs2.test', 'm.room.message', { body: 'fine' }, TXN('a'));
  const inClosed = await hs2.rooms.sendMessage(closed, '@bob:hs2.test', 'm.room.message', { body: 'denied' }, TXN('b'));
  await fed.flush();
  hs1.down = false;
  const pdus = await Promise.all([inClosed, inOpen].map(async (id) => (await hs2.storage.events.getEvent(id))!.event.pdu));
  const handler = handlerFor(hs1, { request: () => Promise.reject(new Error('nothing to fetch')) });
  const result = await handler.handle('hs2.test', 'acl-1', { origin: 'hs2.test', pdus, edus: [] });
  const answers = result.pdus as Record<string, { error?: string }>;
  assert.match(String(answers[inClosed]?.error), /hs2\.test is denied by the room's server ACL/);
  assert.deepEqual(answers[inOpen], {});
  assert.equal(await hs1.storage.events.getEvent(inClosed), undefined);
  assert.equal((await hs1.storage.events.getEvent(inOpen))?.outlier, false);
});

test('the PDUs of a transaction are checked in turn and stored in one storage call, each with its own result', async () => {
  const fed = new TestFederation();
  const { hs1, hs2, roomId } = await fed.publicRoomAcrossTwo({ hs1Users: ['carol'] });

  // While hs2 hears nothing: messages, a topic, a new member and her first message (which cites
  // her join, an event of the same transaction, as an auth event), a power level change.
  hs2.down = true;
  const ids: string[] = [];
  const say = async (who: string, body: string) =>
    ids.push(await hs1.rooms.sendMessage(roomId, who, 'm.room.message', { body }, TXN(`${who}${body}`)));
  for (let i = 0; i < 3; i++) await say('@alice:hs1.test', `a${i}`);
  ids.push(await hs1.rooms.setState(roomId, '@alice:hs1.test', 'm.room.topic', '', { topic: 'in one go' }));
  ids.push(await hs1.rooms.join('@carol:hs1.test', roomId, undefined).then(async () => (await hs1.storage.events.getMembership(roomId, '@carol:hs1.test'))!.eventId));
  await say('@carol:hs1.test', 'c0');
  const pl = (await hs1.storage.events.getCurrentStateEvent(roomId, 'm.room.power_levels', ''))!.event.content;
  ids.push(await hs1.rooms.setState(roomId, '@alice:hs1.test', 'm.room.power_levels', '', { ...pl, events_default: 50 }));
  // Not allowed any more: carol's power level is below events_default now.
  const version = getRoomVersion((await hs1.storage.events.getRoom(roomId))!.version)!;
  const state = await hs1.storage.events.getCurrentState(roomId);
  const auth = [stateKeyOf('m.room.power_levels', ''), stateKeyOf('m.room.member', '@carol:hs1.test')].map((k) => state.get(k)!);
  if (!version.roomIdFromCreateEvent) auth.unshift(state.get(stateKeyOf('m.room.create', ''))!);
  const last = (await hs1.storage.events.getEvent(ids[ids.length - 1]))!.event;
  const forbidden = buildEvent(
    {
      type: 'm.room.message',
      sender: '@carol:hs1.test',
      content: { body: 'muted' },
      roomId,
      prevEvents: [last.eventId],
      authEvents: auth,
      depth: last.depth + 1,
      originServerTs: last.originServerTs + 1,
    },
    version,
    'hs1.test',
    hs1.deps.signingKey,
  );
  await fed.flush();
  hs2.down = false;

  const pdus: Pdu[] = [];
  for (const id of ids) pdus.push((await hs1.storage.events.getEvent(id))!.event.pdu);
  pdus.push(forbidden.pdu);
  let persistCalls = 0;
  let withAnswer = 0;
  const persist = hs2.storage.events.persistEvents.bind(hs2.storage.events);
  hs2.storage.events.persistEvents = (inputs, opts) => {
    persistCalls++;
    if (opts?.inboundTxn) withAnswer++;
    return persist(inputs, opts);
  };
  let separateAnswers = 0;
  const putTxnResult = hs2.storage.inboundTxns.putTxnResult.bind(hs2.storage.inboundTxns);
  hs2.storage.inboundTxns.putTxnResult = (...args) => {
    separateAnswers++;
    return putTxnResult(...args);
  };
  const handler = handlerFor(hs2, { request: () => Promise.reject(new Error('nothing to fetch')) });
  // Sent out of order: the handler puts parents first.
  const result = await handler.handle('hs1.test', 'batch-1', { origin: 'hs1.test', pdus: [pdus[1], pdus[0], ...pdus.slice(2)], edus: [] });
  const answers = result.pdus as Record<string, { error?: string }>;
  for (const id of ids) assert.deepEqual(answers[id], {}, id);
  assert.match(String(answers[forbidden.event.eventId]?.error), /power|level/i);
  // One storage call for the events and the transaction's answer (no EDUs to apply after them).
  assert.equal(persistCalls, 1);
  assert.equal(withAnswer, 1);
  assert.equal(separateAnswers, 0);
  assert.deepEqual(await hs2.storage.inboundTxns.getTxnResult('hs1.test', 'batch-1'), result);
  assert.deepEqual(await handler.handle('hs1.test', 'batch-1', { origin: 'hs1.test', pdus: [], edus: [] }), result);

  for (const id of ids) assert.equal((await hs2.storage.events.getEvent(id))?.outlier, false, id);
  assert.equal((await hs2.storage.events.getEvent(forbidden.event.eventId))?.rejectedReason !== undefined, true);
  const s1 = await hs1.storage.events.getCurrentState(roomId);
  const s2 = await hs2.storage.events.getCurrentState(roomId);
  assert.deepEqual(new Map([...s2].sort()), new Map([...s1].sort()));
  assert.deepEqual(await hs2.storage.events.getForwardExtremities(roomId), [ids[ids.length - 1]]);
  // The state before each event is the one hs1 has for it.
  for (const id of ids) {
    const before1 = await hs1.storage.events.getStateBefore(id);
    const before2 = await hs2.storage.events.getStateBefore(id);
    assert.deepEqual(new Map([...before2!].sort()), new Map([...before1!].sort()), id);
  }
});

test('with EDUs the answer is stored once they are applied, so a crash before that leaves the transaction to be retried whole', async () => {
  const fed = new TestFederation();
  const { hs1, hs2, roomId } = await fed.publicRoomAcrossTwo();
  hs2.down = true;
  const msg = await hs1.rooms.sendMessage(roomId, '@alice:hs1.test', 'm.room.message', { body: 'with an EDU' }, TXN('edu'));
  await fed.flush();
  hs2.down = false;
  const pdu = (await hs1.storage.events.getEvent(msg))!.event.pdu;

  const seen: Array<{ stored: boolean; answered: boolean }> = [];
  const edus = new EduRegistry(logger);
  edus.registerEduHandler('org.example.probe', async () => {
    seen.push({
      stored: (await hs2.storage.events.getEvent(msg)) !== undefined,
      answered: (await hs2.storage.inboundTxns.getTxnResult('hs1.test', 'edu-1')) !== undefined,
    });
  });
  const handler = handlerFor(hs2, { request: () => Promise.reject(new Error('nothing to fetch')) }, hs2.storage, edus);
  const result = await handler.handle('hs1.test', 'edu-1', { origin: 'hs1.test', pdus: [pdu], edus: [{ edu_type: 'org.example.probe', content: {} }] });
  assert.deepEqual(result, { pdus: { [msg]: {} } });
  // The EDU ran after the PDU was stored and before the answer was.
  assert.deepEqual(seen, [{ stored: true, answered: false }]);
  assert.deepEqual(await hs2.storage.inboundTxns.getTxnResult('hs1.test', 'edu-1'), result);
});
