import type Database from 'better-sqlite3';
import type {
  CompleteUploadResult,
  FetchedContent,
  MediaRecord,
  MediaStore,
  MediaUsage,
  RemoteMediaRecord,
  ThumbnailKey,
  ThumbnailRecord,
  UploadedContent,
} from '../media-store.js';

interface MediaRow {
  media_id: string;
  user_id: string;
  content_type: string | null;
  filename: string | null;
  size: number | null;
  sha256: string | null;
  created_ts: number;
  uploaded_ts: number | null;
  unused_expires_ts: number | null;
  quarantined: number;
}

interface RemoteRow {
  origin: string;
  media_id: string;
  content_type: string | null;
  filename: string | null;
  size: number | null;
  sha256: string | null;
  fetched_ts: number | null;
  quarantined: number;
}

interface ThumbRow {
  content_type: string;
  size: number;
  sha256: string;
}

export class SqliteMediaStore implements MediaStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      insert: db.prepare(`INSERT INTO media (media_id, user_id, content_type, filename, size, sha256, created_ts, uploaded_ts)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      reserve: db.prepare('INSERT INTO media (media_id, user_id, created_ts, unused_expires_ts) VALUES (?, ?, ?, ?)'),
      countPending: db
        .prepare('SELECT COUNT(*) FROM media WHERE user_id = ? AND uploaded_ts IS NULL AND unused_expires_ts > ?')
        .pluck(),
      get: db.prepare('SELECT * FROM media WHERE media_id = ?'),
      complete: db.prepare(`UPDATE media SET content_type = ?, filename = ?, size = ?, sha256 = ?, uploaded_ts = ?,
        unused_expires_ts = NULL WHERE media_id = ? AND uploaded_ts IS NULL`),
      quarantine: db.prepare('UPDATE media SET quarantined = ? WHERE media_id = ?'),
      getThumb: db.prepare(`SELECT content_type, size, sha256 FROM media_thumbnails
        WHERE media_id = ? AND width = ? AND height = ? AND method = ? AND animated = ?`),
      putThumb: db.prepare(`INSERT OR REPLACE INTO media_thumbnails
        (media_id, width, height, method, animated, content_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      getRemoteThumb: db.prepare(`SELECT content_type, size, sha256 FROM remote_media_thumbnails
        WHERE origin = ? AND media_id = ? AND width = ? AND height = ? AND method = ? AND animated = ?`),
      putRemoteThumb: db.prepare(`INSERT OR REPLACE INTO remote_media_thumbnails
        (origin, media_id, width, height, method, animated, content_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      getRemote: db.prepare('SELECT * FROM remote_media WHERE origin = ? AND media_id = ?'),
      putRemote: db.prepare(`INSERT INTO remote_media (origin, media_id, content_type, filename, size, sha256, fetched_ts)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin, media_id) DO UPDATE SET content_type = excluded.content_type,
        filename = excluded.filename, size = excluded.size, sha256 = excluded.sha256, fetched_ts = excluded.fetched_ts`),
      quarantineRemote: db.prepare(`INSERT INTO remote_media (origin, media_id, quarantined) VALUES (?, ?, ?)
        ON CONFLICT (origin, media_id) DO UPDATE SET quarantined = excluded.quarantined`),
      insertFreeze: db.prepare('INSERT OR IGNORE INTO media_freeze (id, frozen_since_ts) VALUES (1, ?)'),
      getFreeze: db.prepare('SELECT frozen_since_ts FROM media_freeze WHERE id = 1').pluck(),
      userMediaIds: db.prepare('SELECT media_id FROM media WHERE user_id = ?').pluck(),
      userShas: db.prepare(`SELECT sha256 FROM media WHERE user_id = ? AND sha256 IS NOT NULL
        UNION SELECT t.sha256 FROM media_thumbnails t JOIN media m USING (media_id) WHERE m.user_id = ?`).pluck(),
      deleteUser: db.prepare('DELETE FROM media WHERE user_id = ?'),
      referenced: db
        .prepare(`SELECT EXISTS (SELECT 1 FROM media WHERE sha256 = @sha)
          OR EXISTS (SELECT 1 FROM media_thumbnails WHERE sha256 = @sha)
          OR EXISTS (SELECT 1 FROM remote_media WHERE sha256 = @sha)
          OR EXISTS (SELECT 1 FROM remote_media_thumbnails WHERE sha256 = @sha)`)
        .pluck(),
      usage: db.prepare(`SELECT user_id, COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM media
        WHERE uploaded_ts IS NOT NULL GROUP BY user_id ORDER BY bytes DESC, user_id LIMIT ? OFFSET ?`),
      usageTotal: db.prepare('SELECT COUNT(DISTINCT user_id) FROM media WHERE uploaded_ts IS NOT NULL').pluck(),
    };
  }

  async insertUploaded(mediaId: string, userId: string, c: UploadedContent): Promise<void> {
    this.q.insert.run(mediaId, userId, c.contentType, c.filename, c.size, c.sha256, c.uploadedTs, c.uploadedTs);
  }

  async reserve(mediaId: string, userId: string, createdTs: number, unusedExpiresTs: number): Promise<void> {
    this.q.reserve.run(mediaId, userId, createdTs, unusedExpiresTs);
  }

  async countPending(userId: string, now: number): Promise<number> {
    return this.q.countPending.get(userId, now) as number;
  }

  async completeUpload(mediaId: string, userId: string, c: UploadedContent, now: number): Promise<CompleteUploadResult> {
    return this.db
      .transaction((): CompleteUploadResult => {
        const row = this.q.get.get(mediaId) as MediaRow | undefined;
        if (!row) return 'unknown';
        if (row.user_id !== userId) return 'forbidden';
        if (row.uploaded_ts !== null) return 'already_uploaded';
        if (row.unused_expires_ts !== null && row.unused_expires_ts <= now) return 'expired';
        this.q.complete.run(c.contentType, c.filename, c.size, c.sha256, c.uploadedTs, mediaId);
        return 'ok';
      })
      .immediate();
  }

  async get(mediaId: string): Promise<MediaRecord | undefined> {
    const r = this.q.get.get(mediaId) as MediaRow | undefined;
    if (!r) return undefined;
    return {
      mediaId: r.media_id,
      userId: r.user_id,
      contentType: r.content_type,
      filename: r.filename,
      size: r.size,
      sha256: r.sha256,
      createdTs: r.created_ts,
      uploadedTs: r.uploaded_ts,
      unusedExpiresTs: r.unused_expires_ts,
      quarantined: r.quarantined !== 0,
    };
  }

  async setQuarantined(mediaId: string, quarantined: boolean): Promise<boolean> {
    return this.q.quarantine.run(quarantined ? 1 : 0, mediaId).changes > 0;
  }

  async getThumbnail(k: ThumbnailKey): Promise<ThumbnailRecord | undefined> {
    const dims = [k.mediaId, k.width, k.height, k.method, k.animated ? 1 : 0] as const;
    const r = (k.origin === undefined ? this.q.getThumb.get(...dims) : this.q.getRemoteThumb.get(k.origin, ...dims)) as
      | ThumbRow
      | undefined;
    return r && { ...k, contentType: r.content_type, size: r.size, sha256: r.sha256 };
  }

  async putThumbnail(t: ThumbnailRecord): Promise<void> {
    const row = [t.mediaId, t.width, t.height, t.method, t.animated ? 1 : 0, t.contentType, t.size, t.sha256] as const;
    if (t.origin === undefined) this.q.putThumb.run(...row);
    else this.q.putRemoteThumb.run(t.origin, ...row);
  }

  async getRemote(origin: string, mediaId: string): Promise<RemoteMediaRecord | undefined> {
    const r = this.q.getRemote.get(origin, mediaId) as RemoteRow | undefined;
    if (!r) return undefined;
    return {
      origin: r.origin,
      mediaId: r.media_id,
      contentType: r.content_type,
      filename: r.filename,
      size: r.size,
      sha256: r.sha256,
      fetchedTs: r.fetched_ts,
      quarantined: r.quarantined !== 0,
    };
  }

  async putRemote(origin: string, mediaId: string, c: FetchedContent): Promise<void> {
    this.q.putRemote.run(origin, mediaId, c.contentType, c.filename, c.size, c.sha256, c.fetchedTs);
  }

  async setRemoteQuarantined(origin: string, mediaId: string, quarantined: boolean): Promise<void> {
    this.q.quarantineRemote.run(origin, mediaId, quarantined ? 1 : 0);
  }

  async frozenSince(candidate: number): Promise<number> {
    this.q.insertFreeze.run(candidate);
    return this.q.getFreeze.get() as number;
  }

  async deleteUserMedia(userId: string): Promise<{ mediaIds: string[]; orphanedSha256: string[] }> {
    return this.db
      .transaction(() => {
        const mediaIds = this.q.userMediaIds.all(userId) as string[];
        const shas = this.q.userShas.all(userId, userId) as string[];
        this.q.deleteUser.run(userId);
        const orphanedSha256 = shas.filter((sha) => this.q.referenced.get({ sha }) === 0);
        return { mediaIds, orphanedSha256 };
      })
      .immediate();
  }

  async isBlobReferenced(sha256: string): Promise<boolean> {
    return this.q.referenced.get({ sha: sha256 }) !== 0;
  }

  async usage(limit: number, offset: number): Promise<{ users: MediaUsage[]; total: number }> {
    const rows = this.q.usage.all(limit, offset) as { user_id: string; n: number; bytes: number }[];
    return {
      users: rows.map((r) => ({ userId: r.user_id, mediaCount: r.n, mediaBytes: r.bytes })),
      total: this.q.usageTotal.get() as number,
    };
  }
}
