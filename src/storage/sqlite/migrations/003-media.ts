/**
 * The media repository's metadata: uploaded (and reserved) media, and generated thumbnails. Both
 * point at content-addressed blobs by SHA-256, so identical bytes are stored once on disk.
 */
import type { Migration } from './index.js';

export const media003: Migration = {
  version: 3,
  name: 'media',
  up(db) {
    db.exec(`
      CREATE TABLE media (
        media_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        content_type TEXT,
        filename TEXT,
        size INTEGER,
        sha256 TEXT,
        created_ts INTEGER NOT NULL,
        uploaded_ts INTEGER,
        unused_expires_ts INTEGER,
        quarantined INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX media_user ON media (user_id, created_ts);
      CREATE INDEX media_sha256 ON media (sha256) WHERE sha256 IS NOT NULL;

      CREATE TABLE media_thumbnails (
        media_id TEXT NOT NULL REFERENCES media (media_id) ON DELETE CASCADE,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        method TEXT NOT NULL,
        animated INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (media_id, width, height, method, animated)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX media_thumbnails_sha256 ON media_thumbnails (sha256);
    `);
  },
};
