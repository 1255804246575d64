/**
 * The outbound federation queue (per destination, PDUs by event ID and EDUs as JSON, grouped into
 * transactions by `txn_id` once claimed), per-destination back-off, and received transaction IDs.
 * `coalesce_key` is unique per destination among unclaimed items, so a newer typing or presence
 * EDU replaces an older one that has not gone out yet.
 */
import type { Migration } from './index.js';

export const federationQueue005: Migration = {
  version: 5,
  name: 'federation-queue',
  up(db) {
    db.exec(`
      CREATE TABLE federation_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        destination TEXT NOT NULL,
        event_id TEXT,
        room_id TEXT,
        edu TEXT,
        coalesce_key TEXT,
        txn_id TEXT
      ) STRICT;
      CREATE INDEX federation_outbox_destination ON federation_outbox (destination, id);
      CREATE UNIQUE INDEX federation_outbox_coalesce ON federation_outbox (destination, coalesce_key)
        WHERE coalesce_key IS NOT NULL AND txn_id IS NULL;

      CREATE TABLE federation_destinations (
        destination TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        retry_after_ts INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE federation_inbound_txns (
        origin TEXT NOT NULL,
        txn_id TEXT NOT NULL,
        result TEXT NOT NULL,
        received_ts INTEGER NOT NULL,
        PRIMARY KEY (origin, txn_id)
      ) STRICT;
      CREATE INDEX federation_inbound_txns_ts ON federation_inbound_txns (received_ts);
    `);
  },
};
