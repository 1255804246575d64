import type Database from 'better-sqlite3';
import type { JsonObject } from '../../core/json.js';
import type { FilterStore } from '../storage.js';

/** Filter IDs are small per-user integers (decimal strings), so they never start with `{`. */
export class SqliteFilterStore implements FilterStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      nextId: db.prepare('SELECT COALESCE(MAX(filter_id), -1) + 1 FROM filters WHERE user_id = ?').pluck(),
      insert: db.prepare('INSERT INTO filters (user_id, filter_id, filter) VALUES (?, ?, ?)'),
      get: db.prepare('SELECT filter FROM filters WHERE user_id = ? AND filter_id = ?').pluck(),
    };
  }

  async createFilter(userId: string, filter: JsonObject): Promise<string> {
    return this.db
      .transaction(() => {
        const id = this.q.nextId.get(userId) as number;
        this.q.insert.run(userId, id, JSON.stringify(filter));
        return String(id);
      })
      .immediate();
  }

  async getFilter(userId: string, filterId: string): Promise<JsonObject | undefined> {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(filterId)) return undefined;
    const text = this.q.get.get(userId, Number(filterId)) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as JsonObject);
  }
}
