/** Reads and parses a JSON request body within a size limit. */
import type { IncomingMessage } from 'node:http';
import { badJson, MatrixError, notJson, tooLarge } from './errors.js';
import type { RawBody } from './route.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What body reading needs of a request: its headers, a way to set response headers, the stream. */
export interface BodyRequest {
  get(header: string): string;
  set(header: string, value: string): void;
  readonly req: IncomingMessage;
}

/**
 * The request body's chunks, failing with 408 when the client sends nothing for `idleMs` while we
 * wait (a stalled body would otherwise hold the connection for ever: requestTimeout is off for long
 * polls). The connection is closed after the 408, which ends the abandoned read.
 */
async function* idleLimited(ctx: BodyRequest, idleMs: number): AsyncGenerator<Buffer> {
  const it = (ctx.req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let done = false;
  let stalled = false;
  try {
    for (;;) {
      const next = it.next();
      let timer: NodeJS.Timeout | undefined;
      const stall = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(bodyTimeout()), idleMs);
      });
      let step: IteratorResult<Buffer>;
      try {
        step = await Promise.race([next, stall]);
      } catch (err) {
        if (err instanceof MatrixError && err.status === 408) {
          stalled = true;
          next.catch(() => {});
          ctx.set('Connection', 'close');
        }
        throw err;
      } finally {
        clearTimeout(timer);
      }
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } finally {
    // A consumer that stops early (413) releases the stream as a plain for-await would; a stalled
    // one leaves it to the connection close, so the 408 can still be written.
    if (!done && !stalled) await it.return?.();
  }
}

const bodyTimeout = () => new MatrixError(408, 'M_UNKNOWN', 'Request body not received in time');

export async function readRawBody(ctx: BodyRequest, limit: number, idleMs: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || Number.NaN);
  if (declared > limit) {
    ctx.set('Connection', 'close');
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of idleLimited(ctx, idleMs)) {
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
export async function readJsonObjectBody(ctx: BodyRequest, limit: number, idleMs: number): Promise<Record<string, unknown>> {
  const raw = await readRawBody(ctx, limit, idleMs);
  if (raw.length === 0) return {};
  let value: unknown;
  let text: string;
  try {
    text = utf8.decode(raw);
    value = JSON.parse(text);
  } catch {
    throw notJson('Content not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badJson('Content must be a JSON object.');
  }
  // Valid UTF-8 has no surrogates: only a `\uD8xx`-style escape can produce a lone one. A body
  // shorter than two brackets per level cannot nest too deeply: most bodies skip the walk.
  const surrogates = SURROGATE_ESCAPE.test(text);
  if (surrogates || text.length > 2 * MAX_BODY_DEPTH) {
    const problem = unencodable(value, 0, surrogates);
    if (problem) throw badJson(problem);
  }
  return value as Record<string, unknown>;
}

/**
 * Below canonical JSON's own limit (512) with room for the envelope a body ends up in (event
 * content inside an event, a PDU inside a transaction), so signing never meets a deeper value.
 */
const MAX_BODY_DEPTH = 500;

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a parsed body could never be hashed, signed or stored faithfully, if it could not: nesting
 * past MAX_BODY_DEPTH or a lone UTF-16 surrogate (`"\ud800"` parses, but has no UTF-8 form).
 * Checked once here so no handler meets them deep inside canonical JSON as a 500.
 */
function unencodable(v: unknown, depth: number, strings: boolean): string | undefined {
  if (typeof v === 'string') return strings && LONE_SURROGATE.test(v) ? 'String contains a lone surrogate' : undefined;
  if (typeof v !== 'object' || v === null) return undefined;
  if (depth >= MAX_BODY_DEPTH) return `JSON nested deeper than ${MAX_BODY_DEPTH} levels`;
  const values = Array.isArray(v) ? v : Object.values(v);
  if (strings && !Array.isArray(v)) {
    for (const key of Object.keys(v)) if (LONE_SURROGATE.test(key)) return 'Key contains a lone surrogate';
  }
  for (const item of values) {
    const problem = unencodable(item, depth + 1, strings);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The body as a size-checked stream. An announced Content-Length over the limit is refused before
 * anything is read; otherwise bytes are counted as they arrive. The connection is closed after a 413
 * so the unread rest of the body is never parsed as another request.
 */
export function rawBodyStream(ctx: BodyRequest, limit: number, idleMs: number): RawBody {
  const header = ctx.get('content-length');
  const declared = header === '' ? undefined : Number(header);
  if (declared !== undefined && declared > limit) {
    ctx.set('Connection', 'close');
    throw tooLarge(`Cannot upload files larger than ${limit} bytes`);
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    let size = 0;
    try {
      for await (const chunk of idleLimited(ctx, idleMs)) {
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
