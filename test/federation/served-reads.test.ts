import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject } from '../../src/core/json.js';
import type { Pdu } from '../../src/core/pdu.js';
import { TestFederation } from './servers-fixture.js';

const TXN = (n: string) => ({ userId: '@x:x', deviceId: 'D', txnId: n });

async function roomWithHistory(historyVisibility: string) {
  const fed = new TestFederation();
  const hs1 = await fed.addServer('hs1.test', ['alice']);
  const hs2 = await fed.addServer('hs2.test', ['bob']);
  const hs3 = await fed.addServer('hs3.test', ['eve']);
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', {
    preset: 'public_chat',
    initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: historyVisibility } }],
  });
  const early: string[] = [];
  for (let i = 0; i < 5; i++) early.push(await hs1.rooms.sendMessage(roomId, '@alice:hs1.test', 'm.room.message', { body: `early ${i}` }, TXN(`e${i}`)));
  await hs2.rooms.join('@bob:hs2.test', roomId, undefined, ['hs1.test']);
  await fed.flush();
  const late = await hs1.rooms.sendMessage(roomId, '@alice:hs1.test', 'm.room.message', { body: 'late' }, TXN('late'));
  await fed.flush();
  return { fed, hs1, hs2, hs3, roomId, early, late };
}

const bodies = (pdus: Pdu[]) => pdus.filter((p) => p.type === 'm.room.message').map((p) => p.content.body);

test('backfill walks prev_events newest first; a server that may not see history gets it redacted', async () => {
  const { hs1, roomId, early, late } = await roomWithHistory('joined');
  const res = await hs1.reads.backfill('hs2.test', roomId, [late], 10);
  const pdus = res.pdus as unknown as Pdu[];
  assert.equal(pdus.length, 10);
  assert.equal(pdus[0].content.body, 'late');
  for (let i = 1; i < pdus.length; i++) assert.ok(pdus[i - 1].depth >= pdus[i].depth);
  // Messages before bob's join are in the graph but their content is redacted for hs2.
  const earlyIds = new Set(early);
  const { toRoomEvent } = await import('../../src/core/event-format.js');
  const { getRoomVersion } = await import('../../src/rooms/versions.js');
  const v = getRoomVersion('12')!;
  const redacted = pdus.filter((p) => earlyIds.has(toRoomEvent(p, v).eventId));
  assert.ok(redacted.length > 0);
  for (const p of redacted) assert.deepEqual(p.content, {});
});

test('with shared history a joined server backfills everything', async () => {
  const { hs1, roomId, late } = await roomWithHistory('shared');
  const res = await hs1.reads.backfill('hs2.test', roomId, [late], 100);
  assert.deepEqual(bodies(res.pdus as unknown as Pdu[]), ['late', 'early 4', 'early 3', 'early 2', 'early 1', 'early 0']);
});

test('servers with no user in the room are refused', async () => {
  const { hs1, roomId, late } = await roomWithHistory('shared');
  await assert.rejects(hs1.reads.backfill('hs3.test', roomId, [late], 10), { errcode: 'M_FORBIDDEN' });
  await assert.rejects(hs1.reads.stateIds('hs3.test', roomId, late), { errcode: 'M_FORBIDDEN' });
  await assert.rejects(hs1.reads.event('hs3.test', late), { errcode: 'M_FORBIDDEN' });
});

test('state and state_ids give the state before the event with its auth chain', async () => {
  const { hs1, roomId, late } = await roomWithHistory('shared');
  const ids = await hs1.reads.stateIds('hs2.test', roomId, late);
  const current = await hs1.storage.events.getCurrentState(roomId);
  assert.deepEqual(new Set(ids.pdu_ids as string[]), new Set(current.values()));
  const chain = ids.auth_chain_ids as string[];
  assert.ok(chain.length > 0);
  const full = await hs1.reads.state('hs2.test', roomId, late);
  assert.equal((full.pdus as JsonObject[]).length, (ids.pdu_ids as string[]).length);
  assert.equal((full.auth_chain as JsonObject[]).length, chain.length);
  const auth = await hs1.reads.eventAuth('hs2.test', roomId, late);
  assert.ok((auth.auth_chain as JsonObject[]).some((p) => p.type === 'm.room.create'));
  await assert.rejects(hs1.reads.stateIds('hs2.test', roomId, '$nope'), { errcode: 'M_NOT_FOUND' });
});

test('get_missing_events returns the gap oldest first, bounded by earliest_events and limit', async () => {
  const { hs1, roomId, early, late } = await roomWithHistory('shared');
  const res = await hs1.reads.missingEvents('hs2.test', roomId, { earliest_events: [early[1]], latest_events: [late], limit: 10 });
  const got = bodies(res.events as unknown as Pdu[]);
  assert.deepEqual(got, ['early 2', 'early 3', 'early 4']);
  const limited = await hs1.reads.missingEvents('hs2.test', roomId, { earliest_events: [early[0]], latest_events: [late], limit: 2 });
  assert.equal((limited.events as JsonObject[]).length, 2);
});

test('event and timestamp_to_event', async () => {
  const { hs1, roomId, late } = await roomWithHistory('shared');
  const ev = await hs1.reads.event('hs2.test', late);
  assert.equal(ev.origin, 'hs1.test');
  assert.equal(((ev.pdus as JsonObject[])[0].content as JsonObject).body, 'late');
  const lateEv = (await hs1.storage.events.getEvent(late))!;
  const found = await hs1.reads.timestampToEvent('hs2.test', roomId, lateEv.event.originServerTs, 'b');
  assert.equal(found.event_id, late);
  await assert.rejects(hs1.reads.timestampToEvent('hs2.test', roomId, lateEv.event.originServerTs + 1_000_000, 'f'), { errcode: 'M_NOT_FOUND' });
});

test('history visibility "joined": /event serves hidden events redacted, get_missing_events leaves them out, /state_ids at them is refused', async () => {
  const { hs1, roomId, early, late } = await roomWithHistory('joined');
  const hidden = await hs1.reads.event('hs2.test', early[2]);
  const pdu = (hidden.pdus as unknown as Pdu[])[0];
  assert.equal(pdu.type, 'm.room.message');
  assert.deepEqual(pdu.content, {});
  const seen = await hs1.reads.event('hs2.test', late);
  assert.equal(((seen.pdus as unknown as Pdu[])[0].content as JsonObject).body, 'late');

  const missing = await hs1.reads.missingEvents('hs2.test', roomId, { earliest_events: [early[0]], latest_events: [late], limit: 20 });
  const got = bodies(missing.events as unknown as Pdu[]);
  assert.ok(!got.some((b) => String(b).startsWith('early')), JSON.stringify(got));

  await assert.rejects(hs1.reads.stateIds('hs2.test', roomId, early[2]), { errcode: 'M_FORBIDDEN' });
  await assert.rejects(hs1.reads.state('hs2.test', roomId, early[2]), { errcode: 'M_FORBIDDEN' });
  assert.ok(((await hs1.reads.stateIds('hs2.test', roomId, late)).pdu_ids as string[]).length > 0);
});
