/**
 * Remote media over federation (server-server API, Content Repository): the authenticated
 * `/_matrix/federation/v1/media/download/{mediaId}` first; if the origin answers 404 M_UNRECOGNIZED
 * (it predates Matrix 1.11), the deprecated `/_matrix/media/v3/download/{origin}/{mediaId}` with
 * `allow_remote=false`, as the spec requires. A `Location` part is followed under the URL-preview
 * address policy, so an origin cannot point us at loopback or private addresses.
 *
 * Only transport lives here; the MediaRepository caps the size, keeps the deadline and stores.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../src/logger.js';
import { filenameFromDisposition } from '../../src/media/content-headers.js';
import {
  RemoteMediaError,
  type RemoteMediaDownload,
  type RemoteMediaRequest,
  type RemoteMediaSource,
} from '../../src/media/remote-media.js';
import type { IpPolicy } from '../../src/media/url-preview/ip-policy.js';
import { FetchFailed, FetchRefused, safeOpen } from '../../src/media/url-preview/safe-fetch.js';
import { type FederationClient, FederationError, type StreamedResponse } from '../client/federation-client.js';
import { MultipartError, multipartBoundary, readMultipartMedia } from './multipart.js';

const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_LOCATION_REDIRECTS = 5;

export interface FederationMediaSourceDeps {
  client: Pick<FederationClient, 'stream'>;
  /** Addresses a `Location` part may point at. */
  locationPolicy: IpPolicy;
  logger: Logger;
}

export class FederationMediaSource implements RemoteMediaSource {
  constructor(private readonly d: FederationMediaSourceDeps) {}

  async download(origin: string, mediaId: string, req: RemoteMediaRequest): Promise<RemoteMediaDownload | undefined> {
    const id = encodeURIComponent(mediaId);
    const res = await this.get(origin, `/_matrix/federation/v1/media/download/${id}`, { timeout_ms: req.timeoutMs }, req.signal);
    if (res.status === 200) return this.fromMultipart(origin, res, req.signal);
    const err = await errorOf(origin, res);
    if (err.status === 404 && err.errcode === 'M_UNRECOGNIZED') {
      this.d.logger.debug({ origin }, 'no federation media endpoint: falling back to /_matrix/media/v3/download');
      const legacy = await this.get(
        origin,
        `/_matrix/media/v3/download/${encodeURIComponent(origin)}/${id}`,
        { allow_remote: 'false', timeout_ms: req.timeoutMs },
        req.signal,
      );
      if (legacy.status === 200) return plainDownload(legacy.body);
      const legacyErr = await errorOf(origin, legacy);
      if (legacyErr.status === 404) return undefined;
      throw legacyErr;
    }
    if (err.status === 404) return undefined;
    throw err;
  }

  private async get(origin: string, path: string, query: Record<string, string | number>, signal: AbortSignal): Promise<StreamedResponse> {
    try {
      return await this.d.client.stream(origin, path, { query, signal });
    } catch (err) {
      if (err instanceof FederationError) throw new RemoteMediaError(`${origin}: ${err.message}`);
      throw err;
    }
  }

  private async fromMultipart(origin: string, res: StreamedResponse, signal: AbortSignal): Promise<RemoteMediaDownload> {
    const boundary = multipartBoundary(res.headers['content-type']);
    if (boundary === undefined) {
      res.body.destroy();
      throw new RemoteMediaError(`${origin} answered a media download without a multipart/mixed body`);
    }
    let part: Awaited<ReturnType<typeof readMultipartMedia>>;
    try {
      part = await readMultipartMedia(res.body, boundary);
    } catch (err) {
      res.body.destroy();
      throw err instanceof MultipartError ? new RemoteMediaError(`${origin}: ${err.message}`) : err;
    }
    const location = part.headers.location;
    if (location !== undefined) {
      res.body.destroy();
      return this.fromLocation(origin, location, signal);
    }
    return {
      contentType: part.headers['content-type'],
      filename: filenameFromDisposition(part.headers['content-disposition']),
      declaredLength: lengthOf(part.headers['content-length']),
      body: owned(part.body, res.body),
    };
  }

  private async fromLocation(origin: string, location: string, signal: AbortSignal): Promise<RemoteMediaDownload> {
    try {
      const { res } = await safeOpen(location, this.d.locationPolicy, { maxRedirects: MAX_LOCATION_REDIRECTS, signal });
      return plainDownload(res);
    } catch (err) {
      if (err instanceof FetchRefused || err instanceof FetchFailed) {
        throw new RemoteMediaError(`${origin} redirected media to ${location}: ${err.message}`);
      }
      throw err;
    }
  }
}

/** A plain (non-multipart) 200 response as a download. */
function plainDownload(res: IncomingMessage): RemoteMediaDownload {
  const type = res.headers['content-type'];
  return {
    contentType: type,
    filename: filenameFromDisposition(res.headers['content-disposition']),
    declaredLength: lengthOf(res.headers['content-length']),
    body: owned(res, res),
  };
}

/** `chunks`, with the response destroyed however the reader stops (done, error, or gave up). */
async function* owned(chunks: AsyncIterable<Buffer>, res: IncomingMessage): AsyncGenerator<Buffer> {
  try {
    for await (const c of chunks) yield c;
  } finally {
    res.destroy();
  }
}

function lengthOf(header: string | undefined): number | undefined {
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

/** Reads a (bounded) error body and turns the response into a RemoteMediaError. */
async function errorOf(origin: string, res: StreamedResponse): Promise<RemoteMediaError> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of res.body as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_ERROR_BODY_BYTES) break;
      chunks.push(c);
    }
  } catch {
    // The status is enough to go on.
  } finally {
    res.body.destroy();
  }
  let errcode = 'M_UNKNOWN';
  let error = `HTTP ${res.status}`;
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { errcode?: unknown; error?: unknown };
    if (typeof body.errcode === 'string') errcode = body.errcode;
    if (typeof body.error === 'string') error = body.error;
  } catch {
    // Not JSON: keep the defaults.
  }
  return new RemoteMediaError(`${origin} answered ${res.status} ${errcode}: ${error}`, res.status, errcode);
}
