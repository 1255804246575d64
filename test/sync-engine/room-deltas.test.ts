/**
 * The shared room delta (src/sync-engine/room-deltas.ts) must give every member exactly the
 * section the per-member walk gives. Two sync engines over one store, one sharing and one not,
 * build every member's incremental sync after each step of a seeded random room history
 * (messages with transaction IDs, topic and name changes, display-name changes, redactions, a
 * member leaving and coming back), with and without lazy-loaded members and a small timeline
 * limit so gaps are limited; the bodies must be identical.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { JsonObject } from '../../src/core/json.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { InProcessNotifier } from '../../src/notifier.js';
import { RoomReads } from '../../src/room-engine/room-reads.js';
import { Rooms } from '../../src/room-engine/rooms.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { SyncEngine } from '../../src/sync-engine/sync-engine.js';
import { type Filter, parseFilter } from '../../src/sync/filter.js';
import { parseSyncToken, type SyncToken } from '../../src/sync/sync-token.js';

const USERS = ['@a:hs', '@b:hs', '@c:hs', '@d:hs', '@e:hs'];

function filterOf(json: JsonObject): Filter {
  const r = parseFilter(json);
  if (!r.ok) throw new Error(r.reason);
  return r.filter;
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function scenario(seed: number, filter: Filter): Promise<{ compared: number; shared: number }> {
  const storage = SqliteStorage.open(':memory:');
  const notifier = new InProcessNotifier();
  const now = () => 1_700_000_000_000;
  const rooms = new Rooms({ storage, serverName: 'hs', signingKey: generateSigningKey('t'), now, notifier, logger: pino({ level: 'silent' }) });
  const sharing = new SyncEngine(storage, new RoomReads(storage.events, now), notifier, now);
  const walking = new SyncEngine(storage, new RoomReads(storage.events, now), notifier, now, undefined, { shareRoomDeltas: false });
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const roomId = await rooms.createRoom(USERS[0], { preset: 'public_chat' });
  for (const u of USERS.slice(1)) await rooms.join(u, roomId, undefined);
  const joined = new Set(USERS);
  const since = new Map<string, SyncToken | undefined>();
  const sent: string[] = [];
  let txn = 0;
  let compared = 0;
  let shared = 0;

  const syncEveryone = async () => {
    for (const userId of USERS) {
      for (const device of ['D1', 'D2']) {
        const key = `${userId}|${device}`;
        const opts = { viewer: { userId, deviceId: device }, since: since.get(key), filter, fullState: false, timeoutMs: 0 };
        const a = await sharing.sync(opts);
        const b = await walking.sync(opts);
        assert.deepEqual(a, b, `seed ${seed}: ${userId}/${device} since ${JSON.stringify(since.get(key))}`);
        compared++;
        if (since.get(key) !== undefined && joined.has(userId)) shared++;
        since.set(key, parseSyncToken(a.next_batch as string));
      }
    }
  };

  await syncEveryone();
  for (let step = 0; step < 60; step++) {
    const actions = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < actions; i++) {
      const roll = rnd();
      const member = pick([...joined]);
      if (roll < 0.6) {
        const device = pick(['D1', 'D2']);
        const id = await rooms.sendMessage(roomId, member, 'm.room.message', { msgtype: 'm.text', body: `m${step}.${i}` }, { userId: member, deviceId: device, txnId: `t${++txn}` });
        sent.push(id);
      } else if (roll < 0.7) {
        await rooms.setState(roomId, USERS[0], pick(['m.room.topic', 'm.room.name']), '', { topic: `t${step}`, name: `n${step}` });
      } else if (roll < 0.78 && sent.length > 0) {
        await rooms.redact(roomId, USERS[0], pick(sent), undefined, { userId: USERS[0], deviceId: 'D1', txnId: `t${++txn}` });
      } else if (roll < 0.86) {
        // A display-name change, as a profile update sends it.
        const r = await rooms.creator.send(roomId, { type: 'm.room.member', stateKey: member, sender: member, content: { membership: 'join', displayname: `${member} ${step}` } });
        assert.ok(r.ok);
      } else if (roll < 0.93 && member !== USERS[0]) {
        await rooms.membership('leave', member, roomId, member);
        joined.delete(member);
      } else {
        const back = USERS.find((u) => !joined.has(u));
        if (back) {
          await rooms.join(back, roomId, undefined);
          joined.add(back);
        }
      }
    }
    await syncEveryone();
  }
  await storage.close();
  return { compared, shared };
}

test('shared room deltas equal the per-member walk (timeline limit 3, lazy members)', async () => {
  const filter = filterOf({ room: { timeline: { limit: 3 }, state: { lazy_load_members: true } } });
  for (const seed of [1, 2, 3]) {
    const { compared, shared } = await scenario(seed, filter);
    assert.ok(shared > compared / 2, `most syncs went through the shared path (${shared}/${compared})`);
  }
});

test('shared room deltas equal the per-member walk (default filter)', async () => {
  for (const seed of [4, 5]) await scenario(seed, filterOf({}));
});

test('shared room deltas equal the per-member walk (types filter, include_redundant_members)', async () => {
  const filter = filterOf({
    room: { timeline: { limit: 5, not_types: ['m.room.redaction'] }, state: { lazy_load_members: true, include_redundant_members: true, not_types: ['m.room.topic'] } },
  });
  await scenario(6, filter);
});
