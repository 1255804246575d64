import Database from 'better-sqlite3';
import { generateSigningKey } from '../../src/core/signing.js';
import { EventCreator } from '../../src/room-engine/event-creator.js';
import { EventPipeline, type PersistedRoomEvent } from '../../src/room-engine/event-pipeline.js';
import { LocalKeyRing } from '../../src/room-engine/key-ring.js';
import { planCreateRoom, type CreateRoomRequest } from '../../src/rooms/create-room-plan.js';
import { getRoomVersion } from '../../src/rooms/versions.js';
import { SqliteEventStore } from '../../src/storage/sqlite/event-store.js';
import { MIGRATIONS } from '../../src/storage/sqlite/migrations/index.js';

/** An in-memory engine: SQLite store with the real schema, pipeline, creator, recorded announcements. */
export function makeEngine(serverName = 'hs') {
  const db = new Database(':memory:');
  for (const m of MIGRATIONS) m.up(db);
  const store = new SqliteEventStore(db);
  const key = generateSigningKey('k1');
  const pipeline = new EventPipeline(store, new LocalKeyRing(serverName, [key]));
  const announced: PersistedRoomEvent[] = [];
  pipeline.onPersisted((e) => announced.push(e));
  let clock = 1_000_000;
  const creator = new EventCreator(store, pipeline, serverName, key, () => clock++);
  async function createRoom(user: string, request: CreateRoomRequest = {}, versionId = '12'): Promise<string> {
    const version = getRoomVersion(versionId)!;
    const plan = planCreateRoom({ request, creator: user, serverName, version });
    if (!plan.ok) throw new Error(plan.error);
    const r = await creator.createRoom(version, user, plan.plan.events);
    if (!r.ok) throw new Error(r.error);
    return r.roomId;
  }
  return { db, store, key, pipeline, creator, announced, createRoom };
}
