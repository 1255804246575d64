/**
 * The media repository service: uploads (streamed to disk), reserved uploads, lookups for downloads
 * (waiting for reserved media to arrive), thumbnails (pre-generated for images on upload, others on
 * demand, all cached) and the admin operations. HTTP concerns stay in src/client-api/media/.
 */
import { EventEmitter } from 'node:events';
import type { Config } from '../config/config.js';
import { forbidden, limitExceeded, MatrixError, notFound } from '../http/errors.js';
import type { RawBody } from '../http/route.js';
import type { Logger } from '../logger.js';
import { KeyedQueue } from '../room-engine/room-queue.js';
import type { MediaRecord, MediaStore, MediaUsage, ThumbnailKey, ThumbnailRecord } from '../storage/media-store.js';
import { BlobStore, type ReceivedBlob } from './blob-store.js';
import { baseMediaType, isValidContentType } from './content-headers.js';
import { newMediaId } from './media-ids.js';
import { noRemoteMedia, type RemoteMediaSource } from './remote-media.js';
import {
  CannotThumbnail,
  COMMON_SIZES,
  chooseSize,
  fitsWithin,
  generateThumbnail,
  isThumbnailableType,
  probe,
  SourceTooLarge,
  type ThumbnailRequest,
} from './thumbnailer.js';

/** The spec's default wait for reserved media; also our cap on `timeout_ms`. */
export const MAX_WAIT_MS = 20_000;

/** Metadata of content that can be served (local upload or cached remote media). */
export interface ServableMedia {
  contentType: string;
  filename: string | null;
  sha256: string;
  size: number;
}

export type ThumbnailResult = { kind: 'original'; media: ServableMedia } | { kind: 'thumbnail'; thumb: ThumbnailRecord };

export interface MediaRepositoryDeps {
  config: Config;
  store: MediaStore;
  logger: Logger;
  now: () => number;
  remote?: RemoteMediaSource;
}

const cannotThumbnail = (msg: string) => new MatrixError(400, 'M_UNKNOWN', msg);
const notYetUploaded = () => new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');

export class MediaRepository {
  readonly blobs: BlobStore;
  readonly remote: RemoteMediaSource;
  private readonly store: MediaStore;
  private readonly config: Config;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Serialises commit/delete per blob hash, so a delete never removes a file an upload just reused. */
  private readonly blobLocks = new KeyedQueue();
  /** Thumbnails being generated, so concurrent requests share one generation. */
  private readonly generating = new Map<string, Promise<ThumbnailResult>>();
  private readonly uploaded = new EventEmitter();
  /** Background pre-generation tasks (awaited by `idle()`). */
  private readonly background = new Set<Promise<void>>();

  constructor(deps: MediaRepositoryDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.logger = deps.logger;
    this.now = deps.now;
    this.remote = deps.remote ?? noRemoteMedia;
    this.blobs = new BlobStore(deps.config.media.path);
    this.uploaded.setMaxListeners(0);
  }

  /** POST /upload: stores the body and returns the new media ID. */
  async upload(userId: string, raw: RawBody, filename: string | null): Promise<string> {
    const mediaId = newMediaId();
    const blob = await this.blobs.receive(raw.chunks);
    const contentType = normaliseContentType(raw.contentType);
    await this.commitBlob(blob, async () => {
      await this.store.insertUploaded(mediaId, userId, {
        contentType,
        filename,
        size: blob.size,
        sha256: blob.sha256,
        uploadedTs: this.now(),
      });
      return true;
    });
    this.afterUpload(mediaId, contentType);
    return mediaId;
  }

  /** Stores bytes the server itself obtained (e.g. a URL preview's image) as the user's media. */
  async uploadBuffer(userId: string, data: Buffer, contentType: string): Promise<string> {
    return this.upload(
      userId,
      { chunks: (async function* () { yield data; })(), contentType, declaredLength: data.length },
      null,
    );
  }

  /** POST /create: reserves a media ID for the user. */
  async reserve(userId: string): Promise<{ mediaId: string; unusedExpiresTs: number }> {
    const now = this.now();
    if ((await this.store.countPending(userId, now)) >= this.config.media.max_pending_uploads) {
      throw limitExceeded(60_000);
    }
    const mediaId = newMediaId();
    const unusedExpiresTs = now + this.config.media.unused_expires_ms;
    await this.store.reserve(mediaId, userId, now, unusedExpiresTs);
    return { mediaId, unusedExpiresTs };
  }

  /** PUT /upload/{serverName}/{mediaId}: fills a reservation. */
  async uploadReserved(userId: string, mediaId: string, raw: RawBody, filename: string | null): Promise<void> {
    // Checked before reading the body so a doomed upload is refused without transferring it.
    const rec = await this.store.get(mediaId);
    const early = rec && reservationProblem(rec, userId, this.now());
    if (!rec || early) throw reservationError(early ?? 'unknown');
    const blob = await this.blobs.receive(raw.chunks);
    const contentType = normaliseContentType(raw.contentType);
    let outcome: string = 'ok';
    await this.commitBlob(blob, async () => {
      outcome = await this.store.completeUpload(
        mediaId,
        userId,
        { contentType, filename, size: blob.size, sha256: blob.sha256, uploadedTs: this.now() },
        this.now(),
      );
      return outcome === 'ok';
    });
    if (outcome !== 'ok') throw reservationError(outcome);
    this.uploaded.emit(mediaId);
    this.afterUpload(mediaId, contentType);
  }

  /**
   * The content behind an mxc:// URI, waiting up to `timeoutMs` for reserved media. Quarantined,
   * unknown and expired media are 404.
   */
  async lookup(serverName: string, mediaId: string, opts: { timeoutMs: number; allowRemote: boolean }): Promise<ServableMedia> {
    if (serverName !== this.config.server_name) {
      if (!opts.allowRemote) throw notFound('Media not found (remote media not requested)');
      const remote = await this.remote.fetch(serverName, mediaId, {
        timeoutMs: Math.min(opts.timeoutMs, MAX_WAIT_MS),
        maxBytes: this.config.media.max_upload_bytes,
      });
      if (!remote) throw notFound('Media not found');
      return remote;
    }
    let rec = await this.store.get(mediaId);
    if (rec && rec.uploadedTs === null && !rec.quarantined) {
      if (rec.unusedExpiresTs !== null && rec.unusedExpiresTs <= this.now()) throw notFound('Media not found');
      rec = await this.waitForUpload(mediaId, Math.min(Math.max(opts.timeoutMs, 0), MAX_WAIT_MS));
    }
    if (!rec || rec.quarantined) throw notFound('Media not found');
    return servable(rec);
  }

  async thumbnail(media: ServableMedia, mediaId: string, req: ThumbnailRequest): Promise<ThumbnailResult> {
    if (!isThumbnailableType(baseMediaType(media.contentType))) {
      throw cannotThumbnail('Cannot generate thumbnails for the requested content: not an image');
    }
    const size = chooseSize(req);
    const key: ThumbnailKey = { mediaId, ...size, method: req.method, animated: req.animated };
    const cached = await this.store.getThumbnail(key);
    if (cached) return { kind: 'thumbnail', thumb: cached };
    const k = `${mediaId}/${key.width}x${key.height}/${key.method}/${key.animated}`;
    let job = this.generating.get(k);
    if (!job) {
      job = this.generate(media, key, req).finally(() => this.generating.delete(k));
      this.generating.set(k, job);
    }
    return job;
  }

  async setQuarantined(mediaId: string, quarantined: boolean): Promise<boolean> {
    return this.store.setQuarantined(mediaId, quarantined);
  }

  /** Deletes all of a user's media and the blobs nothing else uses. Returns the media IDs. */
  async deleteUserMedia(userId: string): Promise<string[]> {
    const { mediaIds, orphanedSha256 } = await this.store.deleteUserMedia(userId);
    for (const sha of orphanedSha256) {
      await this.blobLocks.run(sha, async () => {
        // Re-checked under the lock: an upload of the same bytes may have reused the blob meanwhile.
        if (!(await this.store.isBlobReferenced(sha))) await this.blobs.remove(sha);
      });
    }
    return mediaIds;
  }

  async usage(limit: number, offset: number): Promise<{ users: MediaUsage[]; total: number }> {
    return this.store.usage(limit, offset);
  }

  /** Resolves once background thumbnail generation has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private async generate(media: ServableMedia, key: ThumbnailKey, req: ThumbnailRequest): Promise<ThumbnailResult> {
    const path = this.blobs.pathOf(media.sha256);
    let thumb: Awaited<ReturnType<typeof generateThumbnail>>;
    try {
      const src = await probe(path, this.config.media.max_thumbnail_source_pixels);
      if (fitsWithin(src, req)) return { kind: 'original', media };
      thumb = await generateThumbnail(path, src, { ...req, width: key.width, height: key.height });
    } catch (err) {
      if (err instanceof CannotThumbnail) throw cannotThumbnail(err.message);
      if (err instanceof SourceTooLarge) throw new MatrixError(413, 'M_TOO_LARGE', err.message);
      throw err;
    }
    const blob = await this.blobs.receiveBuffer(thumb.data);
    const record: ThumbnailRecord = { ...key, contentType: thumb.contentType, size: blob.size, sha256: blob.sha256 };
    await this.commitBlob(blob, async () => {
      await this.store.putThumbnail(record);
      return true;
    });
    return { kind: 'thumbnail', thumb: record };
  }

  /**
   * Moves the blob under its hash and records it (`record` returns false if it did not), under the
   * blob's lock; an unrecorded blob is removed again unless something else uses it.
   */
  private async commitBlob(blob: ReceivedBlob, record: () => Promise<boolean>): Promise<void> {
    await this.blobLocks.run(blob.sha256, async () => {
      try {
        await this.blobs.commit(blob);
      } catch (err) {
        await this.blobs.discard(blob);
        throw err;
      }
      let recorded = false;
      try {
        recorded = await record();
      } finally {
        if (!recorded && !(await this.store.isBlobReferenced(blob.sha256))) await this.blobs.remove(blob.sha256);
      }
    });
  }

  private afterUpload(mediaId: string, contentType: string): void {
    if (!isThumbnailableType(baseMediaType(contentType))) return;
    const task = this.pregenerate(mediaId).finally(() => this.background.delete(task));
    this.background.add(task);
  }

  private async pregenerate(mediaId: string): Promise<void> {
    for (const s of COMMON_SIZES) {
      try {
        const rec = await this.store.get(mediaId);
        if (!rec || rec.uploadedTs === null) return;
        await this.thumbnail(servable(rec), mediaId, { ...s, animated: false });
      } catch (err) {
        // Typically content that claims to be an image and is not: requests will get the same answer.
        this.logger.debug({ mediaId, err: (err as Error).message }, 'thumbnail pre-generation skipped');
        return;
      }
    }
  }

  private waitForUpload(mediaId: string, timeoutMs: number): Promise<MediaRecord | undefined> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.uploaded.off(mediaId, done);
        this.store.get(mediaId).then(resolve, reject);
      };
      const timer = setTimeout(() => {
        this.uploaded.off(mediaId, done);
        reject(notYetUploaded());
      }, timeoutMs);
      this.uploaded.on(mediaId, done);
    });
  }
}

function normaliseContentType(header: string | undefined): string {
  // The spec's default; an unparseable header is treated as absent rather than stored and echoed back.
  return header !== undefined && isValidContentType(header) ? header : 'application/octet-stream';
}

function servable(rec: MediaRecord): ServableMedia {
  if (rec.sha256 === null || rec.size === null) throw notFound('Media not found');
  return {
    contentType: rec.contentType ?? 'application/octet-stream',
    filename: rec.filename,
    sha256: rec.sha256,
    size: rec.size,
  };
}

function reservationProblem(rec: MediaRecord, userId: string, now: number): string | undefined {
  if (rec.userId !== userId) return 'forbidden';
  if (rec.uploadedTs !== null) return 'already_uploaded';
  if (rec.unusedExpiresTs !== null && rec.unusedExpiresTs <= now) return 'expired';
  return undefined;
}

function reservationError(problem: string): MatrixError {
  switch (problem) {
    case 'forbidden':
      return forbidden('This media ID was created by another user');
    case 'already_uploaded':
      return new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    default:
      return notFound('Unknown or expired media ID');
  }
}
