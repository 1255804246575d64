/**
 * The `multipart/mixed` bodies of the federation media endpoints (RFC 2046 §5.1): exactly two parts,
 * JSON metadata first, then the media (bytes, or a `Location` header pointing at them).
 *
 * Writing streams the media part straight from disk. Reading is incremental: the metadata part and
 * all part headers are small and bounded; the media part is handed out chunk by chunk as it arrives
 * (holding back only an end that could begin the delimiter, to spot it across chunk edges), and only counts
 * as complete when its closing delimiter has been seen, so a truncated transfer is an error.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { isJsonObject, type JsonObject } from '../../src/core/json.js';

const CRLF = Buffer.from('\r\n');
const MAX_PREAMBLE_BYTES = 16 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_METADATA_BYTES = 64 * 1024;

export class MultipartError extends Error {}

/** A fresh boundary: random, so it cannot plausibly occur in the media bytes. */
export function newBoundary(): string {
  return randomBytes(16).toString('hex');
}

export interface MediaPart {
  /** Headers of the second part (`Content-Type`, `Content-Disposition` or `Location`). */
  headers: Record<string, string>;
  /** The media bytes; absent for a `Location` part. */
  body?: Readable;
  /** The byte length of `body`, when known (gives the whole response a Content-Length). */
  length?: number;
}

/** The response body for a federation media endpoint, with its Content-Type and (if known) length. */
export function writeMultipartMedia(
  metadata: JsonObject,
  part: MediaPart,
  boundary = newBoundary(),
): { stream: Readable; contentType: string; length: number | undefined } {
  const headerLines = Object.entries(part.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const head = Buffer.from(
    `--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n--${boundary}\r\n${headerLines}\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const body = part.body;
  async function* chunks(): AsyncGenerator<Buffer> {
    yield head;
    // Leaving the loop early (the client went away) destroys the file stream.
    if (body) for await (const c of body) yield c as Buffer;
    yield tail;
  }
  const length = body === undefined ? head.length + tail.length : part.length === undefined ? undefined : head.length + part.length + tail.length;
  return { stream: Readable.from(chunks(), { objectMode: false }), contentType: `multipart/mixed; boundary=${boundary}`, length };
}

/** The boundary parameter of a `multipart/mixed` Content-Type; undefined if it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [type, ...params] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'multipart/mixed') return undefined;
  for (const p of params) {
    const m = /^\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s";]{1,70}))\s*$/i.exec(p);
    if (m) return m[1] ?? m[2];
  }
  return undefined;
}

export interface ParsedMultipartMedia {
  metadata: JsonObject;
  /** Second-part headers, names lower-cased. */
  headers: Record<string, string>;
  /** The second part's bytes as they arrive; throws MultipartError if the stream ends early. */
  body: AsyncIterable<Buffer>;
}

/**
 * Reads the metadata part and the second part's headers, then returns with the second part's body
 * still streaming. Throws MultipartError for anything malformed.
 */
export async function readMultipartMedia(chunks: AsyncIterable<Buffer>, boundary: string): Promise<ParsedMultipartMedia> {
  // A CRLF in front makes the first delimiter look like every other one (the preamble may be empty).
  const r = new ChunkReader(chunks[Symbol.asyncIterator](), CRLF);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  await r.readUntil(delimiter, MAX_PREAMBLE_BYTES);
  await r.afterDelimiter();
  await r.readHeaders();
  const json = await r.readUntil(delimiter, MAX_METADATA_BYTES);
  let metadata: unknown;
  try {
    metadata = JSON.parse(json.toString('utf8'));
  } catch {
    throw new MultipartError('the metadata part is not JSON');
  }
  if (!isJsonObject(metadata)) throw new MultipartError('the metadata part is not a JSON object');
  await r.afterDelimiter();
  const headers = await r.readHeaders();
  return { metadata, headers, body: r.streamUntil(delimiter) };
}

class ChunkReader {
  private buf: Buffer;
  private ended = false;

  constructor(
    private readonly it: AsyncIterator<Buffer>,
    initial: Buffer,
  ) {
    this.buf = initial;
  }

  /** The bytes before `delim` (which is consumed too); at most `max` of them. */
  async readUntil(delim: Buffer, max: number): Promise<Buffer> {
    let from = 0;
    for (;;) {
      const i = this.buf.indexOf(delim, from);
      if (i > max || (i < 0 && this.buf.length > max + delim.length)) throw new MultipartError('part too large');
      if (i >= 0) {
        const out = this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + delim.length);
        return out;
      }
      from = Math.max(0, this.buf.length - delim.length + 1);
      if (!(await this.fill())) throw new MultipartError('truncated multipart body');
    }
  }

  /** After a delimiter: refuses the close delimiter (a part is missing), skips transport padding. */
  async afterDelimiter(): Promise<void> {
    const rest = await this.readUntil(CRLF, 1024);
    if (rest.subarray(0, 2).toString('latin1') === '--') throw new MultipartError('expected two parts');
    if (!/^[ \t]*$/.test(rest.toString('latin1'))) throw new MultipartError('malformed delimiter line');
  }

  /** A part's header block, through the blank line that ends it. */
  async readHeaders(): Promise<Record<string, string>> {
    await this.need(2);
    if (this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
      this.buf = this.buf.subarray(2);
      return {};
    }
    const block = await this.readUntil(Buffer.from('\r\n\r\n'), MAX_HEADER_BYTES);
    const headers: Record<string, string> = {};
    for (const line of block.toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new MultipartError('malformed part header');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return headers;
  }

  /** Yields the bytes before `delim` as they arrive; ends once `delim` is seen. */
  async *streamUntil(delim: Buffer): AsyncGenerator<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(delim);
      if (i >= 0) {
        if (i > 0) yield this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + delim.length);
        return;
      }
      // Only an end that could begin a delimiter is held back: usually nothing, so chunks pass
      // through without being copied.
      const hold = partialMatchAtEnd(this.buf, delim);
      if (this.buf.length > hold) {
        const out = this.buf.subarray(0, this.buf.length - hold);
        this.buf = this.buf.subarray(this.buf.length - hold);
        yield out;
      }
      if (!(await this.fill())) throw new MultipartError('truncated multipart body');
    }
  }

  private async need(n: number): Promise<void> {
    while (this.buf.length < n) if (!(await this.fill())) throw new MultipartError('truncated multipart body');
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    return true;
  }
}

/** The length of the longest end of `buf` that is a proper prefix of `delim` (0 if none). */
function partialMatchAtEnd(buf: Buffer, delim: Buffer): number {
  let p = buf.indexOf(delim[0], Math.max(0, buf.length - delim.length + 1));
  while (p >= 0) {
    if (buf.subarray(p).equals(delim.subarray(0, buf.length - p))) return buf.length - p;
    p = buf.indexOf(delim[0], p + 1);
  }
  return 0;
}
