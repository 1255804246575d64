/**
 * What a server accepts from others, between two real processes: the room's server ACL on PDUs,
 * EDUs and requests; transaction limits; unknown federation paths; query/profile; a knock across
 * servers. hs1 also serves federation on its client listener (`listeners.client.serve_federation`);
 * hs2 does not. A third, lone server runs its federation listener on plain HTTP (TLS terminated
 * by a proxy in front of it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signRequest } from '../federation/auth/x-matrix.js';
import type { JsonObject } from '../src/core/json.js';
import { api, assertError, type TestUser } from './harness/client.js';
import { type Federation, fedRequest, signedFedRequest, startPair } from './harness/federation.js';
import { createRoomAs, sendText, waitFor } from './harness/room-helpers.js';
import { startServer, type TestServer, waitForLogs } from './harness/server.js';

const enc = encodeURIComponent;

describe('inbound federation: ACLs, limits, paths, profile, knock, listeners', () => {
  let fed: Federation;
  let hs1: TestServer;
  let hs2: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    ({ fed, hs1, hs2, alice, bob } = await startPair({
      config: (name) => (name === 'hs1.test' ? { listeners: { client: { serve_federation: true } } } : {}),
    }));
    const profile = await api(hs1, 'PUT', `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`, {
      token: alice.accessToken,
      body: { displayname: 'Alice Liddell' },
    });
    assert.equal(profile.status, 200, JSON.stringify(profile.body));
  });
  after(async () => {
    await fed?.close();
  });

  test('unknown federation paths answer 404 M_UNRECOGNIZED JSON, a wrong method 405', async () => {
    const hs2f = fed.get('hs2.test');
    for (const path of ['/_matrix/federation/v1/nonsense', '/_matrix/federation/v9/send/x', '/_matrix/key/v1/server', '/elsewhere']) {
      const res = await fedRequest(fed, hs2f, 'GET', path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.errcode, 'M_UNRECOGNIZED', path);
    }
    const wrongMethod = await fedRequest(fed, hs2f, 'DELETE', '/_matrix/federation/v1/version');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.body.errcode, 'M_UNRECOGNIZED');
  });

  test('serve_federation: hs1’s client listener answers federation and key requests; hs2’s does not', async () => {
    const version = await api(hs1, 'GET', '/_matrix/federation/v1/version');
    assert.equal(version.status, 200, JSON.stringify(version.body));
    assert.equal(version.body.server.name, 'Comet');
    const keys = await api(hs1, 'GET', '/_matrix/key/v2/server');
    assert.equal(keys.status, 200);
    assert.equal(keys.body.server_name, 'hs1.test');
    // An X-Matrix request (hs2 asking for alice's profile) is authenticated there like on the federation port.
    const path = `/_matrix/federation/v1/query/profile?user_id=${enc(alice.userId)}`;
    const authorization = signRequest({ method: 'GET', uri: path, origin: 'hs2.test', destination: 'hs1.test' }, fed.get('hs2.test').signingKey());
    const profile = await api(hs1, 'GET', path, { headers: { authorization } });
    assert.equal(profile.status, 200, JSON.stringify(profile.body));
    assert.equal(profile.body.displayname, 'Alice Liddell');
    assertError(await api(hs1, 'GET', path), 401, 'M_UNAUTHORIZED');

    for (const p of ['/_matrix/federation/v1/version', '/_matrix/key/v2/server']) assertError(await api(hs2, 'GET', p), 404, 'M_UNRECOGNIZED');
    // Delegation is served on every client listener, as before.
    assert.equal((await api(hs2, 'GET', '/.well-known/matrix/server')).body.errcode, 'M_NOT_FOUND');
  });

  test('query/profile: the whole profile, one field, and 404 for unknown or remote users', async () => {
    const from = fed.get('hs2.test');
    const to = fed.get('hs1.test');
    const q = (userId: string, field?: string) =>
      signedFedRequest(fed, from, to, 'GET', `/_matrix/federation/v1/query/profile?user_id=${enc(userId)}${field ? `&field=${field}` : ''}`);
    const all = await q(alice.userId);
    assert.equal(all.status, 200);
    assert.equal(all.body.displayname, 'Alice Liddell');
    assert.deepEqual((await q(alice.userId, 'displayname')).body, { displayname: 'Alice Liddell' });
    assert.deepEqual((await q(alice.userId, 'avatar_url')).body, {});
    for (const u of ['@nobody:hs1.test', bob.userId]) {
      const res = await q(u);
      assert.equal(res.status, 404, u);
      assert.equal(res.body.errcode, 'M_NOT_FOUND', u);
    }
  });

  test('a transaction with more than 100 EDUs is refused with 400', async () => {
    const edus = Array.from({ length: 101 }, () => ({ edu_type: 'm.unknown', content: {} }));
    const body = { origin: 'hs1.test', origin_server_ts: Date.now(), pdus: [], edus };
    const res = await signedFedRequest(fed, fed.get('hs1.test'), fed.get('hs2.test'), 'PUT', '/_matrix/federation/v1/send/too-many-edus', body);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(typeof res.body.errcode, 'string');
    const ok = await signedFedRequest(fed, fed.get('hs1.test'), fed.get('hs2.test'), 'PUT', '/_matrix/federation/v1/send/hundred-edus', {
      ...body,
      edus: edus.slice(0, 100),
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('a knock across servers: hs2’s user knocks on hs1’s room and is let in', async () => {
    const roomId = await createRoomAs(hs1, alice, {
      preset: 'private_chat',
      initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
    });
    const knock = await api(hs2, 'POST', `/_matrix/client/v3/knock/${enc(roomId)}`, {
      token: bob.accessToken,
      body: { reason: 'let me in' },
      query: { via: 'hs1.test' },
    });
    assert.equal(knock.status, 200, JSON.stringify(knock.body));
    const onHs1 = await api(hs1, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`, { token: alice.accessToken });
    assert.equal(onHs1.body.membership, 'knock', JSON.stringify(onHs1.body));
    assert.equal(onHs1.body.reason, 'let me in');
    const synced = await api(hs2, 'GET', '/_matrix/client/v3/sync', { token: bob.accessToken, query: { timeout: '0' } });
    assert.ok(synced.body.rooms?.knock?.[roomId], JSON.stringify(synced.body.rooms));

    const invite = await api(hs1, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { token: alice.accessToken, body: { user_id: bob.userId } });
    assert.equal(invite.status, 200, JSON.stringify(invite.body));
    const join = await api(hs2, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: bob.accessToken, body: {}, query: { via: 'hs1.test' } });
    assert.equal(join.status, 200, JSON.stringify(join.body));
    await waitFor('bob joined on hs1', async () => {
      const m = await api(hs1, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.userId)}`, { token: alice.accessToken });
      return m.body?.membership === 'join' ? true : undefined;
    });
  });

  test('the server ACL: a denied server’s PDUs are refused, its EDUs ignored, its requests 403', async () => {
    const roomId = await createRoomAs(hs1, alice, { preset: 'public_chat' });
    const join = await api(hs2, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: bob.accessToken, body: {}, query: { via: 'hs1.test' } });
    assert.equal(join.status, 200, JSON.stringify(join.body));
    const acl = await api(hs1, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.server_acl/`, {
      token: alice.accessToken,
      body: { allow: ['*'], deny: ['hs2.test'], allow_ip_literals: false },
    });
    assert.equal(acl.status, 200, JSON.stringify(acl.body));
    await waitFor('the ACL on hs2', async () => {
      const s = await api(hs2, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.server_acl/`, { token: bob.accessToken });
      return s.status === 200 ? true : undefined;
    });

    const eventId = await sendText(hs2, bob, roomId, 'from a denied server');
    const refused = await waitForLogs(hs1, (l) => l.msg === 'refused a PDU' && l.eventId === eventId);
    assert.match(String(refused[0].reason), /hs2\.test is denied by the room's server ACL/);
    assert.equal((await api(hs1, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`, { token: alice.accessToken })).status, 404);

    const typing = await api(hs2, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/typing/${enc(bob.userId)}`, {
      token: bob.accessToken,
      body: { typing: true, timeout: 30_000 },
    });
    assert.equal(typing.status, 200);
    const ignored = await waitForLogs(hs1, (l) => l.msg === 'ignored an EDU' && l.eduType === 'm.typing' && l.roomId === roomId);
    assert.match(String(ignored[0].reason), /denied by the room's server ACL/);

    const latest = await api(hs1, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages`, { token: alice.accessToken, query: { dir: 'b', limit: '1' } });
    const at: string = latest.body.chunk[0].event_id;
    for (const path of [
      `/_matrix/federation/v1/state_ids/${enc(roomId)}?event_id=${enc(at)}`,
      `/_matrix/federation/v1/backfill/${enc(roomId)}?v=${enc(at)}&limit=5`,
      `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc('@someone:hs2.test')}?ver=12`,
    ]) {
      const res = await signedFedRequest(fed, fed.get('hs2.test'), fed.get('hs1.test'), 'GET', path);
      assert.equal(res.status, 403, path);
      assert.equal(res.body.errcode, 'M_FORBIDDEN', path);
    }
    const missing: JsonObject = { earliest_events: [], latest_events: [at], limit: 5 };
    const gme = await signedFedRequest(fed, fed.get('hs2.test'), fed.get('hs1.test'), 'POST', `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`, missing);
    assert.equal(gme.status, 403);
  });
});

describe('a federation listener on plain HTTP (TLS terminated by a proxy)', () => {
  let server: TestServer;
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('starts, says so, and answers federation requests over HTTP', async () => {
    server = await startServer({ config: { server_name: 'plain.test', listeners: { federation: { host: '127.0.0.1', port: 0 } } } });
    const [line] = await waitForLogs(server, (l) => l.event === 'federation_plain_http');
    assert.match(String(line.msg), /TLS terminated elsewhere/);
    const [listening] = await waitForLogs(server, (l) => l.event === 'listening' && l.listener === 'federation');
    assert.equal(listening.tls, false);
    const res = await fetch(`http://127.0.0.1:${listening.port}/_matrix/key/v2/server`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as JsonObject).server_name, 'plain.test');
    const unknown = await fetch(`http://127.0.0.1:${listening.port}/_matrix/federation/v1/unknown`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as JsonObject).errcode, 'M_UNRECOGNIZED');
  });
});
