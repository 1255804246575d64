import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomReads } from '../../src/room-engine/room-reads.js';
import { RoomHistory } from '../../src/sync-engine/room-history.js';
import { parseRoomEventFilter, type RoomEventFilter } from '../../src/sync/filter.js';
import { makeSyncToken } from '../../src/sync/sync-token.js';
import { makeEngine } from '../room-engine/engine-fixture.js';

const A = '@a:hs';
const B = '@b:hs';

function filter(json: Record<string, unknown> = {}): RoomEventFilter {
  const r = parseRoomEventFilter(json as never);
  if (!r.ok) throw new Error(r.reason);
  return r.filter;
}

async function setup() {
  const engine = makeEngine();
  const roomId = await engine.createRoom(A, { preset: 'public_chat' });
  await engine.creator.send(roomId, { type: 'm.room.member', stateKey: B, sender: B, content: { membership: 'join' } });
  for (let i = 0; i < 30; i++) {
    const sender = i % 3 === 0 ? B : A;
    await engine.creator.send(roomId, { type: 'm.room.message', sender, content: { body: `m${i}` } });
  }
  const history = new RoomHistory(engine.store, new RoomReads(engine.store, () => 2_000_000));
  return { engine, roomId, history };
}

const bodies = (events: { event: { content: { body?: unknown } } }[]) => events.map((e) => e.event.content.body);

test('latestWindow: newest matching events oldest first, with the limited flag', async () => {
  const { engine, roomId, history } = await setup();
  const max = await engine.store.getMaxStreamOrdering();
  const w = await history.latestWindow(A, roomId, 0, max, filter({ senders: [B] }), 3);
  assert.deepEqual(bodies(w.events), ['m21', 'm24', 'm27']);
  assert.equal(w.more, true);
  const all = await history.latestWindow(A, roomId, 0, max, filter({ senders: [B], types: ['m.room.message'] }), 10);
  assert.equal(all.events.length, 10);
  assert.equal(all.more, false, 'exactly the matching events: not limited');
  const none = await history.latestWindow(A, roomId, max, max, filter(), 5);
  assert.deepEqual(none, { events: [], more: false });
});

test('topoWindow pages without gaps or overlaps in both directions, and stops at `to`', async () => {
  const { roomId, history } = await setup();
  const f = filter({ types: ['m.room.message'] });
  const seen: unknown[] = [];
  let from = await history.endPosition(roomId);
  for (;;) {
    const w = await history.topoWindow(A, roomId, from, 'b', f, 7);
    seen.push(...bodies(w.events));
    if (!w.more) break;
    const last = w.events[w.events.length - 1];
    from = { depth: last.event.depth, stream: last.streamOrdering };
  }
  assert.deepEqual(seen.reverse(), Array.from({ length: 30 }, (_, i) => `m${i}`));

  const forward = await history.topoWindow(A, roomId, { depth: 0, stream: 0 }, 'f', f, 5);
  assert.deepEqual(bodies(forward.events), ['m0', 'm1', 'm2', 'm3', 'm4']);
  const m2 = forward.events[2];
  const bounded = await history.topoWindow(A, roomId, { depth: 0, stream: 0 }, 'f', f, 50, {
    depth: m2.event.depth,
    stream: m2.streamOrdering,
  });
  assert.deepEqual(bodies(bounded.events), ['m0', 'm1'], 'the `to` point excludes the event at it');
});

test('state and positions at sync tokens', async () => {
  const { engine, roomId, history } = await setup();
  const joinB = (await engine.store.getMembership(roomId, B))!;
  const before = await history.stateAtToken(roomId, { kind: 'stream', token: makeSyncToken({ events: joinB.streamOrdering - 1 }) });
  const after = await history.stateAtToken(roomId, { kind: 'stream', token: makeSyncToken({ events: joinB.streamOrdering }) });
  assert.equal(await history.membershipIn(before, B), undefined);
  assert.equal(await history.membershipIn(after, B), 'join');
  const pos = await history.toPosition(roomId, { kind: 'stream', token: makeSyncToken({ events: joinB.streamOrdering }) });
  const stateAtPos = await history.stateAtToken(roomId, { kind: 'topo', position: pos });
  assert.equal(await history.membershipIn(stateAtPos, B), 'join', 'the point after the join sees it');
  assert.equal((await history.stateAtStream('!unknown:hs', 10)).size, 0);
});
