/**
 * Other servers' signing keys. `server_keys` is what signature checks read; `server_key_responses`
 * keeps, per key, the latest response that listed it, so this server can act as a notary and
 * serve the origin-signed response even when the origin is down.
 */
import type { Migration } from './index.js';

export const federationKeys004: Migration = {
  version: 4,
  name: 'federation-keys',
  up(db) {
    db.exec(`
      CREATE TABLE server_keys (
        server_name TEXT NOT NULL,
        key_id TEXT NOT NULL,
        public_key TEXT NOT NULL,
        valid_until_ts INTEGER,
        expired_ts INTEGER,
        fetched_ts INTEGER NOT NULL,
        PRIMARY KEY (server_name, key_id)
      ) STRICT;

      CREATE TABLE server_key_responses (
        server_name TEXT NOT NULL,
        key_id TEXT NOT NULL,
        response TEXT NOT NULL,
        valid_until_ts INTEGER NOT NULL,
        fetched_ts INTEGER NOT NULL,
        PRIMARY KEY (server_name, key_id)
      ) STRICT;
    `);
  },
};
