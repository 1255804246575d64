/** Users, profiles, devices, access/refresh tokens, filters, account data, UIA sessions. */
import type { Migration } from './index.js';

export const accounts001: Migration = {
  version: 1,
  name: 'accounts',
  up(db) {
    db.exec(`
      CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        password_hash TEXT,
        is_admin INTEGER NOT NULL DEFAULT 0,
        is_guest INTEGER NOT NULL DEFAULT 0,
        deactivated INTEGER NOT NULL DEFAULT 0,
        created_ts INTEGER NOT NULL
      ) STRICT;

      -- All profile fields as one JSON object: small, always read whole.
      CREATE TABLE profiles (
        user_id TEXT PRIMARY KEY REFERENCES users(user_id),
        profile TEXT NOT NULL
      ) STRICT;

      CREATE TABLE devices (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        display_name TEXT,
        last_seen_ip TEXT,
        last_seen_ts INTEGER,
        created_ts INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id)
      ) STRICT, WITHOUT ROWID;

      -- Tokens are stored as SHA-256 hashes so a leaked database does not leak usable tokens.
      CREATE TABLE refresh_tokens (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        -- the refresh token this one replaced; revoked when this one or its access token is first used
        supersedes_id INTEGER,
        created_ts INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX refresh_tokens_device ON refresh_tokens(user_id, device_id);
      CREATE INDEX refresh_tokens_supersedes ON refresh_tokens(supersedes_id);

      CREATE TABLE access_tokens (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        expires_ts INTEGER,
        refresh_token_id INTEGER,
        supersedes_refresh_token_id INTEGER,
        created_ts INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX access_tokens_device ON access_tokens(user_id, device_id);
      CREATE INDEX access_tokens_refresh ON access_tokens(refresh_token_id);

      CREATE TABLE filters (
        user_id TEXT NOT NULL,
        filter_id INTEGER NOT NULL,
        filter TEXT NOT NULL,
        PRIMARY KEY (user_id, filter_id)
      ) STRICT, WITHOUT ROWID;

      -- Monotonic counters for streams that clients follow incrementally (account data, later others).
      CREATE TABLE stream_counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      INSERT INTO stream_counters (name, value) VALUES ('account_data', 0);

      -- room_id '' holds global account data.
      CREATE TABLE account_data (
        user_id TEXT NOT NULL,
        room_id TEXT NOT NULL,
        type TEXT NOT NULL,
        content TEXT NOT NULL,
        stream_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, room_id, type)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX account_data_stream ON account_data(user_id, stream_id);

      CREATE TABLE uia_sessions (
        session_id TEXT PRIMARY KEY,
        action TEXT NOT NULL,
        user_id TEXT,
        completed TEXT NOT NULL,
        created_ts INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
