import type Database from 'better-sqlite3';
import type { OpenIdTokenStore } from '../storage.js';

export class SqliteOpenIdTokenStore implements OpenIdTokenStore {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      insert: db.prepare('INSERT INTO openid_tokens (token_hash, user_id, expires_ts) VALUES (?, ?, ?)'),
      get: db.prepare('SELECT user_id FROM openid_tokens WHERE token_hash = ? AND expires_ts > ?').pluck(),
      purge: db.prepare('DELETE FROM openid_tokens WHERE expires_ts <= ?'),
    };
  }

  async create(tokenHash: string, userId: string, expiresTs: number): Promise<void> {
    this.q.insert.run(tokenHash, userId, expiresTs);
  }

  async userFor(tokenHash: string, now: number): Promise<string | undefined> {
    return this.q.get.get(tokenHash, now) as string | undefined;
  }

  async deleteExpired(now: number): Promise<void> {
    this.q.purge.run(now);
  }
}
