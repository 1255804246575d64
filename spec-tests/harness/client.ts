/** Raw-HTTP helpers for spec tests (global fetch, no SDK): every test sees exactly what went over the wire. */
import assert from 'node:assert/strict';
import type { TestServer } from './server.js';

export interface ApiResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary JSON response shapes
  body: any;
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  /** JSON-encoded unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string | Uint8Array;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

export async function api(
  server: TestServer,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<ApiResponse> {
  const url = new URL(path, server.baseUrl);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Uint8Array | undefined = opts.rawBody;
  if (body === undefined && opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // leave as text; the test will notice
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Asserts a standard error response. */
export function assertError(res: ApiResponse, status: number, errcode: string): void {
  assert.equal(res.status, status, `expected ${status} ${errcode}, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body?.errcode, errcode, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, 'string');
}

let counter = 0;
/** A localpart no other test in this process uses. */
export function uniqueName(prefix = 'user'): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

export interface TestUser {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
  localpart: string;
}

/** Registers through the dummy UIA flow (the server must have registration enabled). */
export async function registerUser(
  server: TestServer,
  localpart = uniqueName(),
  password = 'correct horse battery staple',
  extra: Record<string, unknown> = {},
): Promise<TestUser> {
  const res = await api(server, 'POST', '/_matrix/client/v3/register', {
    body: { username: localpart, password, auth: { type: 'm.login.dummy' }, ...extra },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { userId: res.body.user_id, accessToken: res.body.access_token, deviceId: res.body.device_id, password, localpart };
}

export async function login(server: TestServer, user: string, password: string, extra: Record<string, unknown> = {}) {
  return api(server, 'POST', '/_matrix/client/v3/login', {
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, ...extra },
  });
}
