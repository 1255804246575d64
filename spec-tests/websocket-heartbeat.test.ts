/**
 * WebSocket heartbeats against a real server: a peer that vanishes without a close handshake (a
 * laptop lid shut) stops answering pings, is dropped, and its user goes offline for others; a peer
 * that answers pings stays connected.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { api, registerUser } from './harness/client.js';
import { createRoomAs, waitFor } from './harness/room-helpers.js';
import { waitForLogs } from './harness/server.js';
import { suiteServer } from './harness/suite.js';
import { WsSyncClient } from './harness/ws-client.js';

const V3 = '/_matrix/client/v3';
const HEARTBEAT_MS = 200;

const server = suiteServer({
  config: { websocket: { heartbeat_interval_ms: HEARTBEAT_MS }, presence: { offline_grace_ms: 200 } },
});

test('a peer that stops answering pings is dropped and goes offline; a live peer stays', async () => {
  const alice = await registerUser(server, 'alice');
  const bob = await registerUser(server, 'bob');
  const roomId = await createRoomAs(server, alice, { preset: 'public_chat' });
  const join = await api(server, 'POST', `${V3}/rooms/${encodeURIComponent(roomId)}/join`, { token: bob.accessToken, body: {} });
  assert.equal(join.status, 200, JSON.stringify(join.body));

  const presenceOfAlice = async () => {
    const r = await api(server, 'GET', `${V3}/presence/${encodeURIComponent(alice.userId)}/status`, { token: bob.accessToken });
    return r.status === 200 ? (r.body.presence as string) : undefined;
  };
  const lid = await WsSyncClient.connect(server.baseUrl, { token: alice.accessToken });
  const live = await WsSyncClient.connect(server.baseUrl, { token: bob.accessToken, query: { set_presence: 'offline' } });
  await waitFor('alice online', async () => ((await presenceOfAlice()) === 'online' ? true : undefined));

  // Stop reading alice's socket: the client library never sees the server's pings, so never pongs,
  // while the TCP connection itself stays up, as with a machine that went to sleep.
  (lid.ws as unknown as { _socket: Socket })._socket.pause();
  const dropped = await waitForLogs(server, (l) => l.event === 'ws_dead_peer' && l.user === alice.userId);
  assert.ok(dropped);
  await waitFor('alice offline', async () => ((await presenceOfAlice()) === 'offline' ? true : undefined), 10_000);

  // At least two heartbeat periods have passed (one ping unanswered, then the drop): bob's socket,
  // whose client answers pings, is still open and still served.
  assert.equal(live.isOpen, true);
  const from = live.frames.length;
  live.send({ type: 'ping', request_id: 'still-there' });
  await live.next((f) => f.type === 'pong' && f.request_id === 'still-there', 10_000, from);
  (lid.ws as unknown as { _socket: Socket })._socket.resume();
  await lid.closed;
  await live.close();
});
