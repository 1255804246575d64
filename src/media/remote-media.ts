/**
 * The seam for media whose mxc:// URI names another server. A source only transports: it asks the
 * origin and hands back the content as a stream. Size limits, the deadline, storing, caching and
 * sharing one fetch between concurrent requests are the MediaRepository's business, so no source
 * (and no remote) can get around them. The federation implementation lives in federation/media/.
 */

export interface RemoteMediaDownload {
  /** The Content-Type the origin gave (validated before it is stored). */
  contentType: string | undefined;
  /** The filename from the origin's Content-Disposition, if any. */
  filename: string | null;
  /** The length the origin announced, if any: a claim, used only to refuse early. */
  declaredLength: number | undefined;
  /** The content bytes. Ends only when the content is complete; throws on a truncated transfer. */
  body: AsyncIterable<Buffer>;
}

export interface RemoteMediaRequest {
  /** Aborted at the repository's deadline or when it stops reading (too large): drop the connection. */
  signal: AbortSignal;
  /** Largest content the repository will accept (the source may refuse earlier). */
  maxBytes: number;
  /** Passed on as the origin's `timeout_ms` (how long it may wait for an asynchronous upload). */
  timeoutMs: number;
}

/** The origin failed (anything but "not found"); `status`/`errcode` are the origin's when it answered. */
export class RemoteMediaError extends Error {
  constructor(
    message: string,
    readonly status = 0,
    readonly errcode = 'M_UNKNOWN',
  ) {
    super(message);
    this.name = 'RemoteMediaError';
  }
}

export interface RemoteMediaSource {
  /** The origin's content, or undefined when the origin says it has no such media. */
  download(origin: string, mediaId: string, req: RemoteMediaRequest): Promise<RemoteMediaDownload | undefined>;
}

export const noRemoteMedia: RemoteMediaSource = {
  download: async () => undefined,
};
