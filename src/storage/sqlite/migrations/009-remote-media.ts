/**
 * Media fetched from other servers over federation, cached under the same content-addressed blobs as
 * local uploads, with its own thumbnails; and the moment unauthenticated media access was frozen
 * (the spec keeps media from before the freeze reachable on the deprecated endpoints).
 */
import type { Migration } from './index.js';

export const remoteMedia009: Migration = {
  version: 9,
  name: 'remote-media',
  up(db) {
    db.exec(`
      -- A row with sha256 NULL is a quarantine placed on media not (or no longer) cached.
      CREATE TABLE remote_media (
        origin TEXT NOT NULL,
        media_id TEXT NOT NULL,
        content_type TEXT,
        filename TEXT,
        size INTEGER,
        sha256 TEXT,
        fetched_ts INTEGER,
        quarantined INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (origin, media_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX remote_media_sha256 ON remote_media (sha256) WHERE sha256 IS NOT NULL;

      CREATE TABLE remote_media_thumbnails (
        origin TEXT NOT NULL,
        media_id TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        method TEXT NOT NULL,
        animated INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (origin, media_id, width, height, method, animated),
        FOREIGN KEY (origin, media_id) REFERENCES remote_media (origin, media_id) ON DELETE CASCADE
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX remote_media_thumbnails_sha256 ON remote_media_thumbnails (sha256);

      -- At most one row: when media.freeze_unauthenticated was first seen on.
      CREATE TABLE media_freeze (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        frozen_since_ts INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
