/**
 * What other servers tell us about their users' devices: the cached device list of each remote
 * user we track (with the `stream_id` of the last `m.device_list_update` applied, so a gap in the
 * `prev_id` chain can be seen), and remote users' cross-signing keys. The device-list change log
 * gets an index by user: the outbound chain and `user/devices` read a local user's latest position.
 */
import type { Migration } from './index.js';

export const federationEdus007: Migration = {
  version: 7,
  name: 'federation-edus',
  up(db) {
    db.exec(`
      CREATE INDEX device_list_changes_user ON device_list_changes (user_id, stream_id);

      -- A row means the user's device list is cached and current as of stream_id.
      CREATE TABLE remote_device_lists (
        user_id TEXT PRIMARY KEY,
        stream_id INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE remote_devices (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        display_name TEXT,
        keys TEXT,
        PRIMARY KEY (user_id, device_id)
      ) STRICT, WITHOUT ROWID;

      -- key_type: 'master' or 'self_signing'.
      CREATE TABLE remote_cross_signing_keys (
        user_id TEXT NOT NULL,
        key_type TEXT NOT NULL,
        key_json TEXT NOT NULL,
        PRIMARY KEY (user_id, key_type)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
