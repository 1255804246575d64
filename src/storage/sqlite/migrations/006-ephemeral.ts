/**
 * Real-time data that outlives a process: read receipts, to-device messages (with the sender's
 * transaction IDs for idempotency), the device-list change log, and the presence a user set
 * explicitly (state and status message). Typing and connection-derived presence live in memory.
 *
 * Numbered 4: 3 is taken by the media branch.
 */
import type { Migration } from './index.js';

export const ephemeral006: Migration = {
  version: 6,
  name: 'ephemeral',
  up(db) {
    db.exec(`
      INSERT INTO stream_counters (name, value) VALUES ('receipts', 0), ('to_device', 0), ('device_lists', 0);

      -- One receipt per (room, type, user, thread); thread_id '' is an unthreaded receipt.
      CREATE TABLE receipts (
        room_id TEXT NOT NULL,
        receipt_type TEXT NOT NULL,
        user_id TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_stream INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        stream_id INTEGER NOT NULL,
        PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX receipts_room_stream ON receipts (room_id, stream_id);
      CREATE INDEX receipts_stream ON receipts (stream_id);

      -- Queued until the recipient device syncs with a token past stream_id.
      CREATE TABLE to_device (
        stream_id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        type TEXT NOT NULL,
        content TEXT NOT NULL
      ) STRICT;
      CREATE INDEX to_device_recipient ON to_device (user_id, device_id, stream_id);

      CREATE TABLE to_device_txns (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        txn_id TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id, txn_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE device_list_changes (
        stream_id INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (stream_id, user_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE presence_status (
        user_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        status_msg TEXT
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
