/**
 * The room event graph: events and their edges, state groups, current state, memberships,
 * forward extremities, client transaction IDs, redactions, aliases and the room directory.
 *
 * State groups: a group is a full snapshot (`prev_group` NULL) or a delta over `prev_group`;
 * `delta_depth` counts the deltas down to the nearest snapshot so reads stay bounded. Every
 * non-outlier, non-rejected event records the group of the state BEFORE it and AFTER it (equal
 * for non-state events).
 */
import type { Migration } from './index.js';

export const rooms002: Migration = {
  version: 2,
  name: 'rooms',
  up(db) {
    db.exec(`
      CREATE TABLE rooms (
        room_id TEXT PRIMARY KEY,
        room_version TEXT NOT NULL,
        creator TEXT NOT NULL,
        is_public INTEGER NOT NULL DEFAULT 0,
        created_stream INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE events (
        stream_ordering INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        room_id TEXT NOT NULL,
        type TEXT NOT NULL,
        state_key TEXT,
        sender TEXT NOT NULL,
        depth INTEGER NOT NULL,
        origin_server_ts INTEGER NOT NULL,
        pdu TEXT NOT NULL,
        rejected_reason TEXT,
        outlier INTEGER NOT NULL DEFAULT 0,
        soft_failed INTEGER NOT NULL DEFAULT 0,
        redacts TEXT,
        state_group_before INTEGER,
        state_group_after INTEGER
      ) STRICT;
      CREATE INDEX events_room_stream ON events (room_id, stream_ordering);
      CREATE INDEX events_room_topo ON events (room_id, depth, stream_ordering);
      CREATE INDEX events_member_key ON events (state_key, type, stream_ordering) WHERE state_key IS NOT NULL;

      CREATE TABLE event_edges (
        event_id TEXT NOT NULL,
        prev_event_id TEXT NOT NULL,
        PRIMARY KEY (event_id, prev_event_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX event_edges_prev ON event_edges (prev_event_id);

      CREATE TABLE event_auth (
        event_id TEXT NOT NULL,
        auth_event_id TEXT NOT NULL,
        PRIMARY KEY (event_id, auth_event_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE state_groups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room_id TEXT NOT NULL,
        prev_group INTEGER REFERENCES state_groups(id),
        delta_depth INTEGER NOT NULL
      ) STRICT;

      -- event_id NULL in a delta removes the key inherited from prev_group.
      CREATE TABLE state_group_entries (
        state_group INTEGER NOT NULL REFERENCES state_groups(id),
        type TEXT NOT NULL,
        state_key TEXT NOT NULL,
        event_id TEXT,
        PRIMARY KEY (state_group, type, state_key)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE current_state (
        room_id TEXT NOT NULL,
        type TEXT NOT NULL,
        state_key TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (room_id, type, state_key)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE room_memberships (
        room_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        membership TEXT NOT NULL,
        event_id TEXT NOT NULL,
        stream_ordering INTEGER NOT NULL,
        forgotten INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, user_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX room_memberships_user ON room_memberships (user_id, membership);

      CREATE TABLE forward_extremities (
        room_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (room_id, event_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE event_txn_ids (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        txn_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (user_id, device_id, txn_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX event_txn_ids_event ON event_txn_ids (event_id);

      -- Effective redactions only; the original event JSON is kept but never served unredacted.
      CREATE TABLE redactions (
        redaction_id TEXT PRIMARY KEY,
        redacts TEXT NOT NULL,
        stream_ordering INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX redactions_redacts ON redactions (redacts, stream_ordering);

      CREATE TABLE room_aliases (
        alias TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        creator TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX room_aliases_room ON room_aliases (room_id);
    `);
  },
};
