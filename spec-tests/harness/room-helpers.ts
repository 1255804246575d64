/** Client-API shorthands for spec tests: create rooms, send, set state, read state and history, wait on a condition. */
import assert from 'node:assert/strict';
import { api, type TestUser } from './client.js';
import type { TestServer } from './server.js';

const enc = encodeURIComponent;
let txn = 0;

/** Polls `probe` until it returns something other than undefined, failing after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** POST /createRoom as `user`, asserting success; returns the room ID. */
export async function createRoomAs(server: TestServer, user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(server, 'POST', '/_matrix/client/v3/createRoom', { token: user.accessToken, body });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.room_id as string;
}

export async function sendText(server: TestServer, user: TestUser, roomId: string, body: string): Promise<string> {
  const r = await api(server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/h${process.pid}.${++txn}`, {
    token: user.accessToken,
    body: { msgtype: 'm.text', body },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.event_id;
}

export async function setState(
  server: TestServer,
  user: TestUser,
  roomId: string,
  type: string,
  stateKey: string,
  content: Record<string, unknown>,
): Promise<string> {
  const r = await api(server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, {
    token: user.accessToken,
    body: content,
  });
  assert.equal(r.status, 200, `${type} on ${server.serverName}: ${JSON.stringify(r.body)}`);
  return r.body.event_id;
}

export async function getStateEvent(server: TestServer, user: TestUser, roomId: string, type: string, stateKey = '') {
  const r = await api(server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, { token: user.accessToken });
  return r.status === 200 ? (r.body as Record<string, unknown>) : undefined;
}

export interface StateEntry {
  type: string;
  state_key: string;
  event_id: string;
  content: Record<string, unknown>;
}

/** The room's current state as a user sees it (/state), keyed `type|state_key`. */
export async function roomState(server: TestServer, user: TestUser, roomId: string): Promise<Map<string, StateEntry>> {
  const r = await api(server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state`, { token: user.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return new Map((r.body as StateEntry[]).map((e) => [`${e.type}|${e.state_key}`, e]));
}

/** `type|state_key → event_id` lines, sorted: two servers agree on state exactly when these are equal. */
export function stateDigest(state: Map<string, StateEntry>): string {
  return [...state].map(([k, e]) => `${k}=${e.event_id}`).sort().join('\n');
}

/** Bodies of the room's messages, oldest first, reading back with /messages (which may backfill). */
export async function messageBodies(server: TestServer, user: TestUser, roomId: string, limit = 100): Promise<string[]> {
  const r = await api(server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages`, {
    token: user.accessToken,
    query: { dir: 'b', limit: String(limit) },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.chunk as Array<{ type: string; content: { body?: string } }>)
    .filter((e) => e.type === 'm.room.message')
    .map((e) => e.content.body ?? '')
    .reverse();
}
