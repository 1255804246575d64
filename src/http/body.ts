/** Reads and parses a JSON request body within a size limit. */
import type { IncomingMessage } from 'node:http';
import { badJson, notJson, tooLarge } from './errors.js';

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
