/** Reads and parses a JSON request body within a size limit. */
import type { IncomingMessage } from 'node:http';
import { badJson, MatrixError, notJson, tooLarge } from './errors.js';
import type { RawBody } from './route.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The parts of a Koa context body reading uses. */
export interface BodyRequest {
  get(header: string): string;
  set(header: string, value: string): void;
  readonly req: IncomingMessage;
}

export async function readRawBody(ctx: BodyRequest, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || Number.NaN);
  if (declared > limit) {
    ctx.set('Connection', 'close');
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      // Stop reading; the connection is closed after the 413 so the rest of the body is not parsed as a request.
      ctx.set('Connection', 'close');
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** An empty body counts as `{}` (several clients send none on POSTs that take no parameters). */
export async function readJsonObjectBody(ctx: BodyRequest, limit: number): Promise<Record<string, unknown>> {
  const raw = await readRawBody(ctx, limit);
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(raw));
  } catch {
    throw notJson('Content not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badJson('Content must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/**
 * The body as a size-checked stream. An announced Content-Length over the limit is refused before
 * anything is read; otherwise bytes are counted as they arrive. The connection is closed after a 413
 * so the unread rest of the body is never parsed as another request.
 */
export function rawBodyStream(ctx: BodyRequest, limit: number): RawBody {
  const header = ctx.get('content-length');
  const declared = header === '' ? undefined : Number(header);
  if (declared !== undefined && declared > limit) {
    ctx.set('Connection', 'close');
    throw tooLarge(`Cannot upload files larger than ${limit} bytes`);
  }
  const req = ctx.req;
  async function* chunks(): AsyncGenerator<Buffer> {
    let size = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) {
          ctx.set('Connection', 'close');
          throw tooLarge(`Cannot upload files larger than ${limit} bytes`);
        }
        yield chunk;
      }
    } catch (err) {
      if (err instanceof MatrixError) throw err;
      // The client went away mid-body (Node reports "aborted"/ECONNRESET).
      throw incomplete();
    }
    // Node ends the stream early, without an error, only if the socket was half-closed.
    if (declared !== undefined && size !== declared) throw incomplete();
  }
  const contentType = ctx.get('content-type') || undefined;
  return { chunks: chunks(), contentType, declaredLength: declared };
}

const incomplete = () => new MatrixError(400, 'M_UNKNOWN', 'Request body ended before the announced Content-Length');
