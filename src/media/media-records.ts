/**
 * The media repository's records and errors as plain values: what can be served (a local upload
 * or cached remote media), the checks on a reserved upload, the cap on a remote transfer, and the
 * errors the repository answers with. No I/O.
 */
import { forbidden, MatrixError, notFound } from '../http/errors.js';
import type { MediaRecord, RemoteMediaRecord } from '../storage/media-store.js';
import { isValidContentType } from './content-headers.js';

/** Metadata of content that can be served (local upload or cached remote media). */
export interface ServableMedia {
  /** The server of the mxc:// URI when it is another one (cached remote media). */
  origin?: string;
  mediaId: string;
  contentType: string;
  filename: string | null;
  sha256: string;
  size: number;
}

export const cannotThumbnail = (msg: string) => new MatrixError(400, 'M_UNKNOWN', msg);
export const notYetUploaded = () => new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
export const frozen = () => notFound('Media not found: unauthenticated access to media uploaded since the freeze is refused');
export const remoteTooLarge = () => new MatrixError(502, 'M_TOO_LARGE', 'Remote content is too large to serve');

/** Stops a remote transfer once it passes `maxBytes`, whatever length the remote announced. */
export class RemoteTooLarge extends Error {}
export async function* capped(chunks: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > maxBytes) throw new RemoteTooLarge();
    yield chunk;
  }
}

export function normaliseContentType(header: string | undefined): string {
  // The spec's default; an unparseable header is treated as absent rather than stored and echoed back.
  return header !== undefined && isValidContentType(header) ? header : 'application/octet-stream';
}

export function servableRemote(rec: RemoteMediaRecord): ServableMedia {
  if (rec.sha256 === null || rec.size === null) throw notFound('Media not found');
  return {
    origin: rec.origin,
    mediaId: rec.mediaId,
    contentType: rec.contentType ?? 'application/octet-stream',
    filename: rec.filename,
    sha256: rec.sha256,
    size: rec.size,
  };
}

export function servable(rec: MediaRecord): ServableMedia {
  if (rec.sha256 === null || rec.size === null) throw notFound('Media not found');
  return {
    mediaId: rec.mediaId,
    contentType: rec.contentType ?? 'application/octet-stream',
    filename: rec.filename,
    sha256: rec.sha256,
    size: rec.size,
  };
}

export function reservationProblem(rec: MediaRecord, userId: string, now: number): string | undefined {
  if (rec.userId !== userId) return 'forbidden';
  if (rec.uploadedTs !== null) return 'already_uploaded';
  if (rec.unusedExpiresTs !== null && rec.unusedExpiresTs <= now) return 'expired';
  return undefined;
}

export function reservationError(problem: string): MatrixError {
  switch (problem) {
    case 'forbidden':
      return forbidden('This media ID was created by another user');
    case 'already_uploaded':
      return new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    default:
      return notFound('Unknown or expired media ID');
  }
}
