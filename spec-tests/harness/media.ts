/** Helpers for media spec tests: binary uploads/downloads and raw-socket requests. */
import { connect } from 'node:net';
import type { TestServer } from './server.js';

export interface BinaryResponse {
  status: number;
  headers: Headers;
  bytes: Buffer;
  /** Parsed JSON when the response is JSON (errors). */
  // biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary JSON response shapes
  json: any;
}

export async function upload(
  server: TestServer,
  token: string,
  data: Uint8Array,
  contentType?: string,
  filename?: string,
): Promise<BinaryResponse> {
  const url = new URL('/_matrix/media/v3/upload', server.baseUrl);
  if (filename !== undefined) url.searchParams.set('filename', filename);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (contentType !== undefined) headers['content-type'] = contentType;
  return toBinary(await fetch(url, { method: 'POST', headers, body: data }));
}

export async function get(server: TestServer, path: string, token?: string): Promise<BinaryResponse> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return toBinary(await fetch(new URL(path, server.baseUrl), { headers }));
}

async function toBinary(res: Response): Promise<BinaryResponse> {
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, headers: res.headers, bytes, json };
}

/** `mxc://server/id` → `server/id` for building download paths. */
export function mxcPath(mxc: string): string {
  return mxc.slice('mxc://'.length);
}

/**
 * Sends `head` (request line + headers, without the blank line) and `body` over a raw socket, optionally
 * half-closing afterwards, and returns everything the server sent back. Paths are sent exactly as given
 * (fetch would normalise `..` segments away).
 */
export function rawRequest(server: TestServer, head: string, body = '', halfClose = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(server.port, '127.0.0.1', () => {
      sock.write(`${head}\r\nHost: 127.0.0.1\r\n\r\n${body}`);
      if (halfClose) sock.end();
    });
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      out += d;
    });
    sock.on('end', () => {
      sock.destroy();
      resolve(out);
    });
    sock.on('error', reject);
  });
}

/** Status code and JSON body of a raw HTTP/1.1 response (Connection: close, no chunking expected). */
export function parseRawResponse(raw: string): { status: number; json: Record<string, unknown> | undefined } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status, json };
}
