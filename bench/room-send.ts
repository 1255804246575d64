/**
 * Local event throughput through the whole pipeline (build, sign, verify, auth, persist) on an
 * in-memory SQLite store, plus a 1000-member room to show state groups keep per-event cost flat.
 * Run: node dist/bench/room-send.js
 */
import Database from 'better-sqlite3';
import { generateSigningKey } from '../src/core/signing.js';
import { EventCreator } from '../src/room-engine/event-creator.js';
import { EventPipeline } from '../src/room-engine/event-pipeline.js';
import { LocalKeyRing } from '../src/room-engine/key-ring.js';
import { planCreateRoom } from '../src/rooms/create-room-plan.js';
import { getRoomVersion } from '../src/rooms/versions.js';
import { SqliteEventStore } from '../src/storage/sqlite/event-store.js';
import { MIGRATIONS } from '../src/storage/sqlite/migrations/index.js';

const db = new Database(':memory:');
for (const m of MIGRATIONS) m.up(db);
const store = new SqliteEventStore(db);
const key = generateSigningKey('bench');
const pipeline = new EventPipeline(store, new LocalKeyRing('hs', [key]));
const creator = new EventCreator(store, pipeline, 'hs', key, () => Date.now());
const version = getRoomVersion('12')!;

async function room(): Promise<string> {
  const plan = planCreateRoom({ request: { preset: 'public_chat' }, creator: '@a:hs', serverName: 'hs', version });
  if (!plan.ok) throw new Error(plan.error);
  const r = await creator.createRoom(version, '@a:hs', plan.plan.events);
  if (!r.ok) throw new Error(r.error);
  return r.roomId;
}

async function time(label: string, n: number, f: (i: number) => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  const ms = performance.now() - t0;
  console.log(`${label}: ${n} in ${ms.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)}/s`);
}

const r1 = await room();
await time('messages', 2000, (i) => creator.send(r1, { type: 'm.room.message', sender: '@a:hs', content: { body: String(i) } }));
await time('joins (room grows to 1000 members)', 1000, (i) =>
  creator.send(r1, { type: 'm.room.member', stateKey: `@u${i}:hs`, sender: `@u${i}:hs`, content: { membership: 'join' } }),
);
await time('messages in the 1000-member room', 2000, (i) =>
  creator.send(r1, { type: 'm.room.message', sender: `@u${i % 1000}:hs`, content: { body: String(i) } }),
);
await time('room creations', 200, () => room());
const groups = db.prepare('SELECT COUNT(*) AS n FROM state_groups').get() as { n: number };
const entries = db.prepare('SELECT COUNT(*) AS n FROM state_group_entries').get() as { n: number };
console.log(`state groups: ${groups.n}, entries: ${entries.n}`);
