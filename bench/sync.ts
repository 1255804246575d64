/**
 * /sync cost on an in-memory store: a user in 50 rooms of 200 messages each (5 members), initial
 * sync (default and lazy-loaded), a no-op incremental sync, an incremental sync after one
 * message in each room, and /messages-style back-paging through one room.
 * Run: node dist/bench/sync.js
 */
import { pino } from 'pino';
import { generateSigningKey } from '../src/core/signing.js';
import { InProcessNotifier } from '../src/notifier.js';
import { RoomReads } from '../src/room-engine/room-reads.js';
import { Rooms } from '../src/room-engine/rooms.js';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import { SyncEngine } from '../src/sync-engine/sync-engine.js';
import { parseFilter, parseRoomEventFilter } from '../src/sync/filter.js';
import { parseSyncToken } from '../src/sync/sync-token.js';

const ROOMS = 50;
const MESSAGES = 200;
const storage = SqliteStorage.open(':memory:');
const notifier = new InProcessNotifier();
const rooms = new Rooms({
  storage,
  serverName: 'hs',
  signingKey: generateSigningKey('bench'),
  now: () => Date.now(),
  notifier,
  logger: pino({ level: 'silent' }),
});
const engine = new SyncEngine(storage, new RoomReads(storage.events, () => Date.now()), notifier, () => Date.now());
const me = '@me:hs';
const others = ['@a:hs', '@b:hs', '@c:hs', '@d:hs'];
let txn = 0;
const roomIds: string[] = [];
for (let r = 0; r < ROOMS; r++) {
  const id = await rooms.createRoom(me, { preset: 'public_chat' });
  for (const o of others) await rooms.join(o, id, undefined);
  for (let i = 0; i < MESSAGES; i++) {
    const sender = i % 2 === 0 ? me : others[i % others.length];
    await rooms.sendMessage(id, sender, 'm.room.message', { body: `m${i}` }, { userId: sender, deviceId: 'D', txnId: String(++txn) });
  }
  roomIds.push(id);
}

async function time<T>(label: string, n: number, f: () => Promise<T>): Promise<T> {
  let out: T | undefined;
  await f(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) out = await f();
  console.log(`${label}: ${((performance.now() - t0) / n).toFixed(1)} ms per call`);
  return out as T;
}

const viewer = { userId: me, deviceId: 'D' };
const plain = parseFilter({});
const lazy = parseFilter({ room: { state: { lazy_load_members: true } } });
if (!plain.ok || !lazy.ok) throw new Error('filter');
const base = { viewer, fullState: false, timeoutMs: 0 };
const initial = await time(`initial sync, ${ROOMS} rooms`, 5, () => engine.sync({ ...base, since: undefined, filter: plain.filter }));
await time(`initial sync, ${ROOMS} rooms, lazy members`, 5, () => engine.sync({ ...base, since: undefined, filter: lazy.filter }));
const since = parseSyncToken(initial.next_batch as string);
await time('incremental sync, nothing new', 20, () => engine.sync({ ...base, since, filter: plain.filter }));
for (const id of roomIds) await rooms.sendMessage(id, others[0], 'm.room.message', { body: 'new' }, { userId: others[0], deviceId: 'D', txnId: String(++txn) });
await time(`incremental sync, 1 new message in each of ${ROOMS} rooms`, 5, () => engine.sync({ ...base, since, filter: plain.filter }));
const f = parseRoomEventFilter({});
if (!f.ok) throw new Error('filter');
await time(`back-paging ${MESSAGES} events of one room, 50 per page`, 5, async () => {
  let from = await engine.history.endPosition(roomIds[0]);
  for (;;) {
    const w = await engine.history.topoWindow(me, roomIds[0], from, 'b', f.filter, 50);
    if (!w.more) break;
    const last = w.events[w.events.length - 1];
    from = { depth: last.event.depth, stream: last.streamOrdering };
  }
});
await storage.close();
