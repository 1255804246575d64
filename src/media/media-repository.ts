/**
 * The media repository service: uploads (streamed to disk), reserved uploads, lookups for downloads
 * (waiting for reserved media to arrive), remote media (fetched once through the RemoteMediaSource,
 * bounded, then cached like local media), thumbnails (pre-generated for images on upload, others on
 * demand, all cached), the legacy-endpoint freeze and the admin operations. HTTP concerns stay in
 * src/client-api/media/ and federation/routes/media.ts.
 */
import { EventEmitter } from 'node:events';
import type { Config } from '../config/config.js';
import { limitExceeded, MatrixError, notFound } from '../http/errors.js';
import type { RawBody } from '../http/route.js';
import type { Logger } from '../logger.js';
import { KeyedQueue } from '../room-engine/room-queue.js';
import type {
  MediaRecord,
  MediaStore,
  MediaUsage,
  ThumbnailKey,
  ThumbnailRecord,
} from '../storage/media-store.js';
import { BlobStore, type ReceivedBlob } from './blob-store.js';
import {
  cannotThumbnail,
  capped,
  frozen,
  normaliseContentType,
  notYetUploaded,
  RemoteTooLarge,
  remoteTooLarge,
  reservationError,
  reservationProblem,
  type ServableMedia,
  servable,
  servableRemote,
} from './media-records.js';
import { baseMediaType } from './content-headers.js';
import { newMediaId } from './media-ids.js';
import { noRemoteMedia, RemoteMediaError, type RemoteMediaSource } from './remote-media.js';
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

export type { ServableMedia } from './media-records.js';

export type ThumbnailResult = { kind: 'original'; media: ServableMedia } | { kind: 'thumbnail'; thumb: ThumbnailRecord };

export interface MediaRepositoryDeps {
  config: Config;
  store: MediaStore;
  logger: Logger;
  now: () => number;
  remote?: RemoteMediaSource;
}

export interface LookupOptions {
  timeoutMs: number;
  allowRemote: boolean;
  /** Asked on a deprecated unauthenticated endpoint: media from after the freeze is refused. */
  legacy?: boolean;
}

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
  /** Remote media being fetched, so concurrent requests share one transfer. */
  private readonly fetching = new Map<string, Promise<ServableMedia>>();
  /** The freeze moment of the legacy endpoints (set by `start()` when freezing is on). */
  private frozenSince: number | undefined;

  constructor(deps: MediaRepositoryDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.logger = deps.logger;
    this.now = deps.now;
    this.remote = deps.remote ?? noRemoteMedia;
    this.blobs = new BlobStore(deps.config.media.path);
    this.uploaded.setMaxListeners(0);
  }

  /**
   * Called once at server start: with the freeze on, fixes its moment (configured, else the one
   * recorded at the first start with freezing on, else now, recorded).
   */
  async start(): Promise<void> {
    const m = this.config.media;
    if (!m.freeze_unauthenticated) return;
    this.frozenSince = m.freeze_unauthenticated_since ?? (await this.store.frozenSince(this.now()));
    this.logger.info({ event: 'media_freeze', since: this.frozenSince }, 'unauthenticated media access is frozen');
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
   * The content behind an mxc:// URI, waiting up to `timeoutMs` for reserved media; remote media is
   * fetched from its origin on first request. Quarantined, unknown and expired media are 404.
   */
  async lookup(serverName: string, mediaId: string, opts: LookupOptions): Promise<ServableMedia> {
    if (serverName !== this.config.server_name) return this.lookupRemote(serverName, mediaId, opts);
    let rec = await this.store.get(mediaId);
    if (rec && rec.uploadedTs === null && !rec.quarantined) {
      if (rec.unusedExpiresTs !== null && rec.unusedExpiresTs <= this.now()) throw notFound('Media not found');
      rec = await this.waitForUpload(mediaId, Math.min(Math.max(opts.timeoutMs, 0), MAX_WAIT_MS));
    }
    if (!rec || rec.quarantined) throw notFound('Media not found');
    if (opts.legacy && this.frozenFor(rec.uploadedTs ?? rec.createdTs)) throw frozen();
    return servable(rec);
  }

  async thumbnail(media: ServableMedia, req: ThumbnailRequest): Promise<ThumbnailResult> {
    if (!isThumbnailableType(baseMediaType(media.contentType))) {
      throw cannotThumbnail('Cannot generate thumbnails for the requested content: not an image');
    }
    const size = chooseSize(req);
    const key: ThumbnailKey = { mediaId: media.mediaId, ...size, method: req.method, animated: req.animated };
    if (media.origin !== undefined) key.origin = media.origin;
    const cached = await this.store.getThumbnail(key);
    if (cached) return { kind: 'thumbnail', thumb: cached };
    const k = `${media.origin ?? ''}/${media.mediaId}/${key.width}x${key.height}/${key.method}/${key.animated}`;
    let job = this.generating.get(k);
    if (!job) {
      job = this.generate(media, key, req).finally(() => this.generating.delete(k));
      this.generating.set(k, job);
    }
    return job;
  }

  /** False if there is no such local media (remote media can be quarantined before it is cached). */
  async setQuarantined(serverName: string, mediaId: string, quarantined: boolean): Promise<boolean> {
    if (serverName === this.config.server_name) return this.store.setQuarantined(mediaId, quarantined);
    await this.store.setRemoteQuarantined(serverName, mediaId, quarantined);
    return true;
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

  /** Whether media uploaded (or cached) at `ts` is refused on the legacy endpoints. */
  private frozenFor(ts: number): boolean {
    if (!this.config.media.freeze_unauthenticated) return false;
    // Without a recorded moment (start() not run) everything counts as new: the safe side.
    return this.frozenSince === undefined || ts >= this.frozenSince;
  }

  private async lookupRemote(origin: string, mediaId: string, opts: LookupOptions): Promise<ServableMedia> {
    const rec = await this.store.getRemote(origin, mediaId);
    if (rec?.quarantined) throw notFound('Media not found');
    if (rec && rec.sha256 !== null) {
      if (opts.legacy && this.frozenFor(rec.fetchedTs ?? 0)) throw frozen();
      return servableRemote(rec);
    }
    if (!opts.allowRemote) throw notFound('Media not found (remote media not requested)');
    // Fetching it now would make it media cached after the freeze.
    if (opts.legacy && this.frozenFor(this.now())) throw frozen();
    const key = `${origin}/${mediaId}`;
    let job = this.fetching.get(key);
    if (!job) {
      job = this.fetchRemote(origin, mediaId).finally(() => this.fetching.delete(key));
      this.fetching.set(key, job);
    }
    return job;
  }

  /**
   * One transfer from the origin into a temp file, capped at max_upload_bytes as it streams and
   * bounded by remote_fetch_timeout_ms; the temp file is removed on any failure, so a remote that
   * lies about the size (or never stops sending) cannot fill the disk.
   */
  private async fetchRemote(origin: string, mediaId: string): Promise<ServableMedia> {
    const maxBytes = this.config.media.max_upload_bytes;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.config.media.remote_fetch_timeout_ms);
    try {
      const dl = await this.remote.download(origin, mediaId, { signal: deadline.signal, maxBytes, timeoutMs: MAX_WAIT_MS });
      if (!dl) throw notFound('Media not found');
      if (dl.declaredLength !== undefined && dl.declaredLength > maxBytes) throw new RemoteTooLarge();
      const blob = await this.blobs.receive(capped(dl.body, maxBytes));
      const content = {
        contentType: normaliseContentType(dl.contentType),
        filename: dl.filename,
        size: blob.size,
        sha256: blob.sha256,
        fetchedTs: this.now(),
      };
      await this.commitBlob(blob, async () => {
        await this.store.putRemote(origin, mediaId, content);
        return true;
      });
      this.logger.info({ event: 'remote_media_fetched', origin, mediaId, size: blob.size }, 'remote media cached');
      return { origin, mediaId, contentType: content.contentType, filename: content.filename, sha256: blob.sha256, size: blob.size };
    } catch (err) {
      if (err instanceof MatrixError && err.status === 404) throw err;
      const reason = deadline.signal.aborted ? 'timed out' : (err as Error).message;
      this.logger.warn({ event: 'remote_media_failed', origin, mediaId, reason }, 'remote media fetch failed');
      if (err instanceof RemoteTooLarge) throw remoteTooLarge();
      if (deadline.signal.aborted) throw new MatrixError(504, 'M_UNKNOWN', `Timed out fetching media from ${origin}`);
      if (err instanceof RemoteMediaError && (err.errcode === 'M_NOT_YET_UPLOADED' || err.errcode === 'M_TOO_LARGE')) {
        throw err.errcode === 'M_TOO_LARGE' ? remoteTooLarge() : notYetUploaded();
      }
      if (err instanceof RemoteMediaError && err.status === 429) throw limitExceeded(5_000);
      throw new MatrixError(502, 'M_UNKNOWN', `Cannot fetch media from ${origin}: ${reason}`);
    } finally {
      clearTimeout(timer);
      // Drops the connection if the transfer stopped early (too large, bad data).
      deadline.abort();
    }
  }

  private async generate(media: ServableMedia, key: ThumbnailKey, req: ThumbnailRequest): Promise<ThumbnailResult> {
    const path = this.blobs.pathOf(media.sha256);
    let thumb: Awaited<ReturnType<typeof generateThumbnail>>;
    try {
      const src = await probe(path, this.config.media.max_thumbnail_source_pixels);
      if (fitsWithin(src, req)) return { kind: 'original', media };
      thumb = await generateThumbnail(path, src, { ...req, width: key.width, height: key.height });
    } catch (err) {
      if (err instanceof CannotThumbnail) {
        if (err.cause) this.logger.info({ mediaId: media.mediaId, err: (err.cause as Error).message }, 'thumbnail generation failed');
        throw cannotThumbnail(err.message);
      }
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
        await this.thumbnail(servable(rec), { ...s, animated: false });
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
