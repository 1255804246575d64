/** Waiting on /sync for a condition, with a deadline instead of sleeps. */
import assert from 'node:assert/strict';
import { api, type TestUser } from './client.js';
import type { TestServer } from './server.js';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

export async function syncOnce(server: TestServer, user: TestUser, query: Record<string, string> = {}): Promise<Json> {
  const res = await api(server, 'GET', '/_matrix/client/v3/sync', { token: user.accessToken, query });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/**
 * Long-polls from `since` until a response satisfies `pred`, following `next_batch`; fails after
 * `deadlineMs`. Returns the matching response (its `next_batch` continues from there).
 */
export async function syncUntil(
  server: TestServer,
  user: TestUser,
  since: string,
  pred: (body: Json) => boolean,
  what: string,
  opts: { deadlineMs?: number; query?: Record<string, string> } = {},
): Promise<Json> {
  const deadline = Date.now() + (opts.deadlineMs ?? 10_000);
  let token = since;
  const seen: Json[] = [];
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) assert.fail(`timed out waiting for ${what}; responses: ${JSON.stringify(seen.slice(-3))}`);
    const body = await syncOnce(server, user, { ...opts.query, since: token, timeout: String(Math.min(remaining, 5000)) });
    if (pred(body)) return body;
    seen.push(body);
    token = body.next_batch;
  }
}

/** Positions in a sync token: events, accountData, toDevice, typing, receipts, presence, deviceLists (docs/sync.md). */
export function tokenPositions(token: string): Record<string, number> {
  const names = ['events', 'accountData', 'toDevice', 'typing', 'receipts', 'presence', 'deviceLists'];
  const parts = token.slice(1).split('_').map(Number);
  return Object.fromEntries(names.map((n, i) => [n, parts[i] ?? 0]));
}

/** The room's ephemeral events of `type` in a sync response. */
export function ephemeralOf(body: Json, roomId: string, type: string): Json[] {
  return (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).filter((e: Json) => e.type === type);
}
