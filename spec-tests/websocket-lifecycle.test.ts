/**
 * A WebSocket sync connection's life against a real server. Heartbeats: a peer that vanishes
 * without a close handshake (a laptop lid shut) stops answering pings, is dropped, and its user
 * goes offline for others; a peer that answers pings stays connected. A client that stops reading
 * is closed once its buffer limit is passed; shutdown closes sockets with 1001; other paths refuse
 * the upgrade.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { api, registerUser } from './harness/client.js';
import { createRoomAs, waitFor } from './harness/room-helpers.js';
import { startServer, waitForLogs } from './harness/server.js';
import { suiteServer } from './harness/suite.js';
import { WsSyncClient } from './harness/ws-client.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;
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

test('a client that stops reading is closed with 4429 and its reason once its buffer limit is passed', async () => {
  // Its own server: a paused client cannot answer pings, so the heartbeat must not end it first.
  const own = await startServer({
    config: { websocket: { max_buffered_bytes: 64 * 1024 }, rate_limits: { send: { per_second: 100000, burst: 100000 } } },
  });
  try {
    const alice = await registerUser(own);
    const bob = await registerUser(own);
    const r = await api(own, 'POST', `${V3}/createRoom`, { token: alice.accessToken, body: { preset: 'public_chat' } });
    const roomId = r.body.room_id;
    assert.equal((await api(own, 'POST', `${V3}/rooms/${enc(roomId)}/join`, { token: bob.accessToken, body: {} })).status, 200);
    const slow = await WsSyncClient.connect(own.baseUrl, { token: bob.accessToken });
    await slow.next((f) => f.type === 'sync');
    slow.ws.pause();
    const big = 'x'.repeat(60_000);
    const closing = () => own.logs().some((l) => l.event === 'ws_close' && l.user === bob.userId && l.code === 4429);
    // The kernel's socket buffers take a few MB before the server's own queue grows.
    for (let i = 0; i < 1500 && !closing(); i++) {
      const res = await api(own, 'PUT', `${V3}/rooms/${enc(roomId)}/send/m.room.message/s${i}`, {
        token: alice.accessToken,
        body: { msgtype: 'm.text', body: `${i}${big}` },
      });
      assert.equal(res.status, 200);
    }
    assert.ok(closing(), 'the server gave up on the slow client');
    slow.ws.resume();
    const closed = await slow.closed;
    assert.equal(closed.code, 4429);
    assert.match(closed.reason, /too slow/);

    const healthy = await WsSyncClient.connect(own.baseUrl, { token: bob.accessToken });
    await healthy.next((f) => f.type === 'sync');
    await healthy.close();
  } finally {
    await own.stop();
    own.cleanup();
  }
});

test('server shutdown closes sockets with 1001', async () => {
  const own = await startServer();
  try {
    const alice = await registerUser(own);
    const ws = await WsSyncClient.connect(own.baseUrl, { token: alice.accessToken });
    await ws.next((f) => f.type === 'sync');
    const stopped = own.stop();
    assert.equal((await ws.closed).code, 1001);
    assert.equal((await stopped).code, 0);
  } finally {
    own.cleanup();
  }
});

test('other paths refuse the upgrade', async () => {
  const bad = new WebSocket(`${server.baseUrl.replace(/^http/, 'ws')}/_matrix/client/v3/sync`);
  const err = await new Promise<Error>((resolve) => bad.once('error', resolve));
  assert.match(err.message, /Unexpected server response: 404/);
});
