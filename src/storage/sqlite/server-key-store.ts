import type Database from 'better-sqlite3';
import type { JsonObject } from '../../core/json.js';
import type { ServerKeyStore, StoredKeyResponse, StoredServerKey } from '../federation-store.js';

interface KeyRow {
  server_name: string;
  key_id: string;
  public_key: string;
  valid_until_ts: number | null;
  expired_ts: number | null;
  fetched_ts: number;
}

const toKey = (r: KeyRow): StoredServerKey => ({
  serverName: r.server_name,
  keyId: r.key_id,
  publicKey: r.public_key,
  validUntilTs: r.valid_until_ts,
  expiredTs: r.expired_ts,
  fetchedTs: r.fetched_ts,
});

export class SqliteServerKeyStore implements ServerKeyStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      upsertKey: db.prepare(`
        INSERT INTO server_keys (server_name, key_id, public_key, valid_until_ts, expired_ts, fetched_ts)
        VALUES (@serverName, @keyId, @publicKey, @validUntilTs, @expiredTs, @fetchedTs)
        ON CONFLICT (server_name, key_id) DO UPDATE SET
          public_key = excluded.public_key,
          valid_until_ts = CASE
            WHEN server_keys.valid_until_ts IS NULL THEN excluded.valid_until_ts
            WHEN excluded.valid_until_ts IS NULL THEN server_keys.valid_until_ts
            ELSE MAX(server_keys.valid_until_ts, excluded.valid_until_ts) END,
          expired_ts = COALESCE(server_keys.expired_ts, excluded.expired_ts),
          fetched_ts = excluded.fetched_ts`),
      upsertResponse: db.prepare(`
        INSERT INTO server_key_responses (server_name, key_id, response, valid_until_ts, fetched_ts)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (server_name, key_id) DO UPDATE SET
          response = excluded.response, valid_until_ts = excluded.valid_until_ts, fetched_ts = excluded.fetched_ts
        WHERE excluded.valid_until_ts >= server_key_responses.valid_until_ts`),
      allKeys: db.prepare('SELECT * FROM server_keys WHERE server_name = ?'),
      responses: db.prepare(
        'SELECT response, valid_until_ts, fetched_ts FROM server_key_responses WHERE server_name = ? ORDER BY valid_until_ts DESC',
      ),
    };
  }

  async storeKeyResponse(serverName: string, response: StoredKeyResponse, keys: readonly StoredServerKey[]): Promise<void> {
    const text = JSON.stringify(response.response);
    this.db
      .transaction(() => {
        for (const k of keys) {
          this.q.upsertKey.run({ ...k });
          this.q.upsertResponse.run(serverName, k.keyId, text, response.validUntilTs, response.fetchedTs);
        }
      })
      .immediate();
  }

  async getKeys(serverName: string, keyIds?: readonly string[]): Promise<StoredServerKey[]> {
    const rows = (this.q.allKeys.all(serverName) as KeyRow[]).map(toKey);
    return keyIds === undefined ? rows : rows.filter((k) => keyIds.includes(k.keyId));
  }

  async getKeyResponses(serverName: string): Promise<StoredKeyResponse[]> {
    const rows = this.q.responses.all(serverName) as Array<{ response: string; valid_until_ts: number; fetched_ts: number }>;
    const seen = new Set<string>();
    const out: StoredKeyResponse[] = [];
    for (const r of rows) {
      if (seen.has(r.response)) continue;
      seen.add(r.response);
      out.push({ response: JSON.parse(r.response) as JsonObject, validUntilTs: r.valid_until_ts, fetchedTs: r.fetched_ts });
    }
    return out;
  }
}
