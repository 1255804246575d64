/**
 * An inbound PDU whose prev events are known here but some of whose auth events are not: the
 * missing auth events are fetched from the origin (`/event_auth`, else `/event` one by one along
 * their auth events), stored as outliers, and the PDU is then checked as usual.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { EduRegistry } from '../../federation/edu/edu-registry.js';
import { ServerAcls } from '../../federation/http/server-acls.js';
import { type RemoteFetcher, TransactionHandler } from '../../federation/inbound/transaction-handler.js';
import { buildEvent } from '../../src/core/event-builder.js';
import type { JsonObject } from '../../src/core/json.js';
import { type Pdu, stateKeyOf } from '../../src/core/pdu.js';
import { getRoomVersion, type RoomVersion } from '../../src/rooms/versions.js';
import { type TestServer, TestFederation } from './servers-fixture.js';

const logger = pino({ level: 'silent' });
const ALICE = '@alice:hs1.test';

interface Scene {
  hs1: TestServer;
  hs2: TestServer;
  roomId: string;
  version: RoomVersion;
  /** Two power-level changes hs2 missed; the second is authorised by the first. */
  missed: [string, string];
  /** A message of alice's on top of what hs2 has, citing the second missed change as an auth event. */
  pdu: Pdu;
}

async function scene(): Promise<Scene> {
  const fed = new TestFederation();
  const { hs1, hs2, roomId } = await fed.publicRoomAcrossTwo();
  const version = getRoomVersion((await hs1.storage.events.getRoom(roomId))!.version)!;
  const [known] = await hs2.storage.events.getForwardExtremities(roomId);

  hs2.down = true;
  const pl = (await hs1.storage.events.getCurrentState(roomId)).get(stateKeyOf('m.room.power_levels', ''))!;
  const plContent = (await hs1.storage.events.getEvent(pl))!.event.content;
  const p2 = await hs1.rooms.setState(roomId, ALICE, 'm.room.power_levels', '', { ...plContent, state_default: 60 });
  const p3 = await hs1.rooms.setState(roomId, ALICE, 'm.room.power_levels', '', { ...plContent, state_default: 70 });
  await fed.flush();
  hs2.down = false;
  assert.equal(await hs2.storage.events.getEvent(p3), undefined);

  const state = await hs1.storage.events.getCurrentState(roomId);
  const knownEvent = (await hs2.storage.events.getEvent(known))!.event;
  const auth = [state.get(stateKeyOf('m.room.member', ALICE))!, p3];
  if (!version.roomIdFromCreateEvent) auth.unshift(state.get(stateKeyOf('m.room.create', ''))!);
  const { pdu } = buildEvent(
    {
      type: 'm.room.message',
      sender: ALICE,
      content: { msgtype: 'm.text', body: 'on top of what hs2 has' },
      roomId,
      prevEvents: [known],
      authEvents: auth,
      depth: knownEvent.depth + 1,
      originServerTs: 2_000_000,
    },
    version,
    'hs1.test',
    hs1.deps.signingKey,
  );
  // hs1 has the event too, so it can serve its auth chain.
  const stored = await hs1.rooms.pipeline.accept(pdu, version, { origin: 'remote' });
  assert.ok(stored.status === 'persisted' || stored.status === 'soft_failed', stored.status);
  return { hs1, hs2, roomId, version, missed: [p2, p3], pdu };
}

function handlerFor(server: TestServer, client: RemoteFetcher): TransactionHandler {
  const storage = server.storage;
  return new TransactionHandler({
    serverName: server.name,
    pipeline: server.rooms.pipeline,
    events: storage.events,
    txns: storage.inboundTxns,
    edus: new EduRegistry(logger),
    acl: new ServerAcls(storage.events),
    client,
    logger,
    now: () => Date.now(),
  });
}

/** Serves hs1's reads to hs2's handler; `serve` decides which endpoints answer. */
function fetcher(s: Scene, asked: string[], serve: { eventAuth: boolean; event: boolean; tamper?: (pdu: JsonObject) => JsonObject }): RemoteFetcher {
  const tamper = serve.tamper ?? ((p: JsonObject) => p);
  return {
    async request<T>(_destination: string, method: string, path: string): Promise<T> {
      const [, , , , name, a, b] = path.split('/').map(decodeURIComponent);
      asked.push(`${method} ${name}${name === 'event' ? ` ${a}` : ''}`);
      if (name === 'event_auth' && serve.eventAuth) {
        const r = await s.hs1.reads.eventAuth('hs2.test', a, b);
        return { auth_chain: (r.auth_chain as JsonObject[]).map(tamper) } as T;
      }
      if (name === 'event' && serve.event) {
        const r = await s.hs1.reads.event('hs2.test', a);
        return { ...r, pdus: (r.pdus as JsonObject[]).map(tamper) } as T;
      }
      throw new Error(`not served: ${method} ${path}`);
    },
  };
}

async function send(s: Scene, client: RemoteFetcher): Promise<JsonObject> {
  return handlerFor(s.hs2, client).handle('hs1.test', `t-${Math.random()}`, { origin: 'hs1.test', pdus: [s.pdu], edus: [] });
}

test('missing auth events come from /event_auth, are stored as outliers, and the PDU is accepted', async () => {
  const s = await scene();
  const asked: string[] = [];
  const result = await send(s, fetcher(s, asked, { eventAuth: true, event: false }));
  const [id] = Object.keys(result.pdus as JsonObject);
  assert.deepEqual(result, { pdus: { [id]: {} } });
  assert.deepEqual(asked, ['GET event_auth']);
  for (const missed of s.missed) {
    const e = await s.hs2.storage.events.getEvent(missed);
    assert.equal(e?.outlier, true, missed);
    assert.equal(e?.rejectedReason, undefined);
  }
  const stored = await s.hs2.storage.events.getEvent(id);
  assert.equal(stored?.outlier, false);
  assert.equal(stored?.rejectedReason, undefined);
  assert.ok((await s.hs2.storage.events.getForwardExtremities(s.roomId)).includes(id));
});

test('without /event_auth the missing events are fetched one by one, following their own auth events', async () => {
  const s = await scene();
  const asked: string[] = [];
  const result = await send(s, fetcher(s, asked, { eventAuth: false, event: true }));
  const [id] = Object.keys(result.pdus as JsonObject);
  assert.deepEqual(result, { pdus: { [id]: {} } });
  // The second change was cited by the PDU; the first only by the second.
  assert.deepEqual(asked, ['GET event_auth', `GET event ${s.missed[1]}`, `GET event ${s.missed[0]}`]);
  for (const missed of s.missed) assert.equal((await s.hs2.storage.events.getEvent(missed))?.outlier, true);
  assert.equal((await s.hs2.storage.events.getEvent(id))?.outlier, false);
});

test('auth events the origin cannot supply, or supplies forged, leave the PDU refused', async () => {
  const s = await scene();
  const nothing = await send(s, fetcher(s, [], { eventAuth: false, event: false }));
  const [id] = Object.keys(nothing.pdus as JsonObject);
  assert.match(String((nothing.pdus as Record<string, JsonObject>)[id].error), /auth events not known/);

  // Power-level events whose signature (under hs1's key ID) does not verify: dropped, never stored.
  const forge = (p: JsonObject): JsonObject =>
    p.type === 'm.room.power_levels' ? { ...p, signatures: { 'hs1.test': { [s.hs1.deps.signingKey.keyId]: 'A'.repeat(86) } } } : p;
  const forged = await send(s, fetcher(s, [], { eventAuth: true, event: true, tamper: forge }));
  assert.match(String((forged.pdus as Record<string, JsonObject>)[id].error), /auth events not known/);
  for (const missed of s.missed) assert.equal(await s.hs2.storage.events.getEvent(missed), undefined);
});
