/**
 * The seam for media whose mxc:// URI names another server. Federation is not built yet; when it is,
 * an implementation fetches `/_matrix/federation/v1/media/download/{mediaId}` from the origin, with a
 * size limit and a timeout, stores the bytes through the BlobStore and caches the metadata, then
 * returns it here. Until then remote media is simply not available (404).
 */

export interface CachedRemoteMedia {
  contentType: string;
  /** The filename from the origin's Content-Disposition, if any. */
  filename: string | null;
  sha256: string;
  size: number;
}

export interface RemoteMediaOptions {
  /** How long the client is willing to wait for the first byte. */
  timeoutMs: number;
  /** Largest content accepted from the origin (media.max_upload_bytes). */
  maxBytes: number;
}

export interface RemoteMediaSource {
  /** The local cached copy (fetched first if needed); undefined if the origin does not have it. */
  fetch(serverName: string, mediaId: string, opts: RemoteMediaOptions): Promise<CachedRemoteMedia | undefined>;
}

export const noRemoteMedia: RemoteMediaSource = {
  fetch: async () => undefined,
};
