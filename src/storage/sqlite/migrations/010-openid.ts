/**
 * OpenID tokens (client `user/{userId}/openid/request_token`, federation `openid/userinfo`): only
 * a hash of each token is kept, with the user and when it stops being valid.
 */
import type { Migration } from './index.js';

export const openId010: Migration = {
  version: 10,
  name: 'openid',
  up(db) {
    db.exec(`
      CREATE TABLE openid_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        expires_ts INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX openid_tokens_expiry ON openid_tokens (expires_ts);
    `);
  },
};
