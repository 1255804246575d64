import type Database from 'better-sqlite3';
import { isJsonObject, type JsonObject } from '../../core/json.js';
import type { AccountDataChange, AccountDataStore } from '../storage.js';

const GLOBAL = '';

export class SqliteAccountDataStore implements AccountDataStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      bump: db
        .prepare("UPDATE stream_counters SET value = value + 1 WHERE name = 'account_data' RETURNING value")
        .pluck(),
      current: db.prepare("SELECT value FROM stream_counters WHERE name = 'account_data'").pluck(),
      upsert: db.prepare(
        `INSERT INTO account_data (user_id, room_id, type, content, stream_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_id = excluded.stream_id`,
      ),
      get: db.prepare('SELECT content FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?').pluck(),
      since: db.prepare(
        'SELECT room_id, type, content, stream_id FROM account_data WHERE user_id = ? AND stream_id > ? ORDER BY stream_id',
      ),
    };
  }

  private putSync(userId: string, roomId: string | null, type: string, content: JsonObject): number {
    const streamId = this.q.bump.get() as number;
    this.q.upsert.run(userId, roomId ?? GLOBAL, type, JSON.stringify(content), streamId);
    return streamId;
  }

  async put(userId: string, roomId: string | null, type: string, content: JsonObject): Promise<number> {
    return this.db.transaction(() => this.putSync(userId, roomId, type, content)).immediate();
  }

  async get(userId: string, roomId: string | null, type: string): Promise<JsonObject | undefined> {
    const text = this.q.get.get(userId, roomId ?? GLOBAL, type) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as JsonObject);
  }

  async setTag(userId: string, roomId: string, tag: string, content: JsonObject | undefined): Promise<number> {
    return this.db
      .transaction(() => {
        const text = this.q.get.get(userId, roomId, 'm.tag') as string | undefined;
        const current = text === undefined ? {} : (JSON.parse(text) as JsonObject);
        const tags: JsonObject = isJsonObject(current.tags) ? { ...current.tags } : {};
        if (content === undefined) delete tags[tag];
        else tags[tag] = content;
        return this.putSync(userId, roomId, 'm.tag', { ...current, tags });
      })
      .immediate();
  }

  async changesSince(userId: string, sinceStreamId: number): Promise<AccountDataChange[]> {
    const rows = this.q.since.all(userId, sinceStreamId) as {
      room_id: string;
      type: string;
      content: string;
      stream_id: number;
    }[];
    return rows.map((r) => ({
      roomId: r.room_id === GLOBAL ? null : r.room_id,
      type: r.type,
      content: JSON.parse(r.content) as JsonObject,
      streamId: r.stream_id,
    }));
  }

  async currentStreamId(): Promise<number> {
    return this.q.current.get() as number;
  }
}
