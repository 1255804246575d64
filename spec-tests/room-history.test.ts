/** Room history by position: /members?at= (sync and pagination tokens) and timestamp_to_event. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { createRoomAs, sendText } from './harness/room-helpers.js';
import { suiteServer } from './harness/suite.js';

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

describe('room history by position', () => {
  const server = suiteServer();

  const sync = async (user: TestUser, query: Record<string, string> = {}): Promise<Json> => {
    const res = await api(server, 'GET', `${V3}/sync`, { token: user.accessToken, query });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const post = async (user: TestUser, path: string): Promise<void> => {
    const res = await api(server, 'POST', `${V3}${path}`, { token: user.accessToken, body: {} });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };

  test('timestamp_to_event finds the nearest visible event in either direction', async () => {
    const alice = await registerUser(server);
    const roomId = await createRoomAs(server, alice);
    const ev = await sendText(server, alice, roomId, 'stamp');
    const got = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/event/${enc(ev)}`, { token: alice.accessToken });
    const ts = got.body.origin_server_ts as number;
    const path = `/_matrix/client/v1/rooms/${enc(roomId)}/timestamp_to_event`;
    const b = await api(server, 'GET', path, { token: alice.accessToken, query: { ts: String(ts + 60_000), dir: 'b' } });
    assert.deepEqual(b.body, { event_id: ev, origin_server_ts: ts });
    const f = await api(server, 'GET', path, { token: alice.accessToken, query: { ts: '0', dir: 'f' } });
    assert.equal(f.status, 200);
    assert.notEqual(f.body.event_id, ev, 'forwards from 0 finds the create event');
    assertError(await api(server, 'GET', path, { token: alice.accessToken, query: { ts: String(ts + 60_000), dir: 'f' } }), 404, 'M_NOT_FOUND');
    assertError(await api(server, 'GET', path, { token: alice.accessToken, query: { dir: 'f' } }), 400, 'M_MISSING_PARAM');
    assertError(await api(server, 'GET', path, { token: alice.accessToken, query: { ts: 'x', dir: 'f' } }), 400, 'M_INVALID_PARAM');
  });

  test('/members?at= takes a prev_batch token', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const roomId = await createRoomAs(server, alice, { preset: 'public_chat' });
    await sendText(server, alice, roomId, 'x');
    const s = await sync(alice, { filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) });
    await post(bob, `/rooms/${enc(roomId)}/join`);
    const at = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/members`, {
      token: alice.accessToken,
      query: { at: s.rooms.join[roomId].timeline.prev_batch },
    });
    assert.deepEqual(at.body.chunk.map((e: Json) => e.state_key), [alice.userId]);
    const now = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/members`, { token: alice.accessToken });
    assert.equal(now.body.chunk.length, 2);
  });

  test('/members?at= never shows a former member what happened after they left', async () => {
    const alice = await registerUser(server);
    const bob = await registerUser(server);
    const carol = await registerUser(server);
    const roomId = await createRoomAs(server, alice, { preset: 'public_chat' });
    await post(bob, `/rooms/${enc(roomId)}/join`);
    await post(bob, `/rooms/${enc(roomId)}/leave`);
    await post(carol, `/rooms/${enc(roomId)}/join`);
    const late = await sync(alice);
    const members = async (query: Record<string, string>) => {
      const res = await api(server, 'GET', `${V3}/rooms/${enc(roomId)}/members`, { token: bob.accessToken, query });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.chunk.map((e: Json) => e.state_key).sort();
    };
    const expected = [alice.userId, bob.userId].sort();
    assert.deepEqual(await members({}), expected);
    assert.deepEqual(await members({ at: late.next_batch }), expected);
  });
});
