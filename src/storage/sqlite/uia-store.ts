import type Database from 'better-sqlite3';
import type { UiaSession, UiaSessionStore } from '../storage.js';

interface Row {
  session_id: string;
  action: string;
  user_id: string | null;
  completed: string;
  created_ts: number;
}

export class SqliteUiaStore implements UiaSessionStore {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      insert: db.prepare(
        'INSERT INTO uia_sessions (session_id, action, user_id, completed, created_ts) VALUES (?, ?, ?, ?, ?)',
      ),
      get: db.prepare('SELECT * FROM uia_sessions WHERE session_id = ?'),
      update: db.prepare('UPDATE uia_sessions SET completed = ?, user_id = ? WHERE session_id = ?'),
      delete: db.prepare('DELETE FROM uia_sessions WHERE session_id = ?'),
      purge: db.prepare('DELETE FROM uia_sessions WHERE created_ts < ?'),
    };
  }

  async create(s: UiaSession): Promise<void> {
    this.q.insert.run(s.sessionId, s.action, s.userId, JSON.stringify(s.completed), s.createdTs);
  }

  async get(sessionId: string): Promise<UiaSession | undefined> {
    const r = this.q.get.get(sessionId) as Row | undefined;
    return (
      r && {
        sessionId: r.session_id,
        action: r.action,
        userId: r.user_id,
        completed: JSON.parse(r.completed) as string[],
        createdTs: r.created_ts,
      }
    );
  }

  async update(sessionId: string, completed: string[], userId: string | null): Promise<void> {
    this.q.update.run(JSON.stringify(completed), userId, sessionId);
  }

  async delete(sessionId: string): Promise<void> {
    this.q.delete.run(sessionId);
  }

  async deleteOlderThan(ts: number): Promise<void> {
    this.q.purge.run(ts);
  }
}
