/**
 * Metadata of the media repository. The bytes live on disk, content-addressed by SHA-256 (see
 * src/media/blob-store.ts); these records map media IDs and thumbnails onto them. A blob may be shared
 * by many records, so deleting records reports which hashes no longer have any.
 */

export interface MediaRecord {
  mediaId: string;
  userId: string;
  /** null until the content is uploaded (media reserved with POST /create). */
  contentType: string | null;
  filename: string | null;
  size: number | null;
  sha256: string | null;
  createdTs: number;
  /** null: reserved, not uploaded yet. */
  uploadedTs: number | null;
  /** For reserved media: when the reservation lapses. */
  unusedExpiresTs: number | null;
  quarantined: boolean;
}

export interface UploadedContent {
  contentType: string;
  filename: string | null;
  size: number;
  sha256: string;
  uploadedTs: number;
}

/** Media of another server cached here (or only quarantined: then `sha256` is null). */
export interface RemoteMediaRecord {
  origin: string;
  mediaId: string;
  contentType: string | null;
  filename: string | null;
  size: number | null;
  sha256: string | null;
  /** When the cache was populated (the "upload" time as far as the media freeze is concerned). */
  fetchedTs: number | null;
  quarantined: boolean;
}

export interface FetchedContent {
  contentType: string;
  filename: string | null;
  size: number;
  sha256: string;
  fetchedTs: number;
}

/** Identifies one thumbnail of a media item. */
export interface ThumbnailKey {
  /** The server of the mxc:// URI when it is not this one (thumbnails of cached remote media). */
  origin?: string;
  mediaId: string;
  width: number;
  height: number;
  method: 'crop' | 'scale';
  animated: boolean;
}

export interface ThumbnailRecord extends ThumbnailKey {
  contentType: string;
  size: number;
  sha256: string;
}

export interface MediaUsage {
  userId: string;
  mediaCount: number;
  /** Bytes of uploaded originals (thumbnails not counted). */
  mediaBytes: number;
}

export type CompleteUploadResult = 'ok' | 'unknown' | 'forbidden' | 'already_uploaded' | 'expired';

export interface MediaStore {
  /** Records media uploaded in one step. */
  insertUploaded(mediaId: string, userId: string, content: UploadedContent): Promise<void>;
  /** Reserves a media ID for a later upload (POST /create). */
  reserve(mediaId: string, userId: string, createdTs: number, unusedExpiresTs: number): Promise<void>;
  /** Reservations of the user not uploaded and not expired at `now`. */
  countPending(userId: string, now: number): Promise<number>;
  /** Fills a reservation; only its owner may, once, before it expires. */
  completeUpload(mediaId: string, userId: string, content: UploadedContent, now: number): Promise<CompleteUploadResult>;
  get(mediaId: string): Promise<MediaRecord | undefined>;
  /** False if there is no such media. */
  setQuarantined(mediaId: string, quarantined: boolean): Promise<boolean>;
  getThumbnail(key: ThumbnailKey): Promise<ThumbnailRecord | undefined>;
  putThumbnail(thumb: ThumbnailRecord): Promise<void>;
  /**
   * Deletes every media record (and thumbnail) of the user. Returns the deleted media IDs and the
   * hashes no remaining record uses (their blobs may be removed).
   */
  deleteUserMedia(userId: string): Promise<{ mediaIds: string[]; orphanedSha256: string[] }>;
  getRemote(origin: string, mediaId: string): Promise<RemoteMediaRecord | undefined>;
  /** Records fetched remote content (a quarantine already placed on it stays). */
  putRemote(origin: string, mediaId: string, content: FetchedContent): Promise<void>;
  /** Quarantines remote media, cached or not (a placeholder row remembers it). */
  setRemoteQuarantined(origin: string, mediaId: string, quarantined: boolean): Promise<void>;
  /**
   * The moment unauthenticated media access was frozen: the recorded one, or `candidate` recorded
   * now if there is none yet.
   */
  frozenSince(candidate: number): Promise<number>;
  /** Whether any record (local or remote media, or thumbnail) still uses the blob. */
  isBlobReferenced(sha256: string): Promise<boolean>;
  /** Usage per user, largest first. */
  usage(limit: number, offset: number): Promise<{ users: MediaUsage[]; total: number }>;
}
