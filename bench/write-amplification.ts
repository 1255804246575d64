/**
 * What storing one message costs SQLite: pages written to the WAL, statements run (by SQL text),
 * state groups created, per message sent through the event creator and pipeline (the path the
 * client API takes), with one message per commit and with 50 in flight. The database is a real
 * file (on /dev/shm, so the figures are not fsync-bound) opened like the server opens it; WAL
 * auto-checkpoints are off while measuring so the WAL's growth counts every page written.
 * Run: node dist/bench/write-amplification.js [messages]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { generateSigningKey } from '../src/core/signing.js';
import { EventCreator } from '../src/room-engine/event-creator.js';
import { EventPipeline } from '../src/room-engine/event-pipeline.js';
import { LocalKeyRing } from '../src/room-engine/key-ring.js';
import { planCreateRoom } from '../src/rooms/create-room-plan.js';
import { getRoomVersion } from '../src/rooms/versions.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteEventStore } from '../src/storage/sqlite/event-store.js';

const N = Number(process.argv[2] ?? 500);
const dir = mkdtempSync(join('/dev/shm', 'comet-wa-'));
const path = join(dir, 'comet.db');
const db = openDatabase(path);

/** Counts statement executions by SQL text (wraps every statement prepared from now on). */
const counts = new Map<string, number>();
const prepare = db.prepare.bind(db);
(db as { prepare: unknown }).prepare = (sql: string) => {
  const st = prepare(sql) as Database.Statement;
  for (const m of ['run', 'get', 'all', 'iterate'] as const) {
    const f = (st[m] as (...a: unknown[]) => unknown).bind(st);
    (st as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
      const key = sql.replace(/\s+/g, ' ').trim().slice(0, 110);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return f(...a);
    };
  }
  return st;
};

const store = new SqliteEventStore(db);
const key = generateSigningKey('bench');
const pipeline = new EventPipeline(store, new LocalKeyRing('hs', [key]));
const creator = new EventCreator(store, pipeline, 'hs', key, () => Date.now());
const version = getRoomVersion('12')!;
const pageSize = db.pragma('page_size', { simple: true }) as number;

const plan = planCreateRoom({ request: { preset: 'public_chat' }, creator: '@a:hs', serverName: 'hs', version });
if (!plan.ok) throw new Error(plan.error);
const created = await creator.createRoom(version, '@a:hs', plan.plan.events);
if (!created.ok) throw new Error(created.error);
const roomId = created.roomId;
for (let i = 0; i < 50; i++) {
  const r = await creator.send(roomId, { type: 'm.room.member', stateKey: `@u${i}:hs`, sender: `@u${i}:hs`, content: { membership: 'join' } });
  if (!r.ok) throw new Error(r.error);
}

const walFrames = () => {
  try {
    return statSync(`${path}-wal`).size / (pageSize + 24);
  } catch {
    return 0;
  }
};
const groups = () => (db.prepare('SELECT COUNT(*) AS n FROM state_groups').get() as { n: number }).n;
let txn = 0;
const send = (i: number) =>
  creator.send(
    roomId,
    { type: 'm.room.message', sender: `@u${i % 50}:hs`, content: { msgtype: 'm.text', body: `message ${i}` } },
    { userId: `@u${i % 50}:hs`, deviceId: 'D', txnId: `t${++txn}` },
  );

async function measure(label: string, inFlight: number): Promise<void> {
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('wal_autocheckpoint = 0');
  counts.clear();
  const frames0 = walFrames();
  const groups0 = groups();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < N) {
        const r = await send(next++);
        if (!r.ok) throw new Error(r.error);
      }
    }),
  );
  const ms = performance.now() - t0;
  const frames = walFrames() - frames0;
  const statements = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(
    `${label}: ${(frames / N).toFixed(1)} WAL pages/msg, ${(statements / N).toFixed(1)} statements/msg, ` +
      `${((groups() - groups0) / N).toFixed(2)} new state groups/msg, ${((ms * 1000) / N).toFixed(0)} µs/msg`,
  );
  for (const [sql, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${(n / N).toFixed(2)}  ${sql}`);
  db.pragma('wal_autocheckpoint = 1000');
}

try {
  await measure('1 in flight', 1);
  await measure('50 in flight', 50);
} finally {
  store.flushPendingWrites();
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
