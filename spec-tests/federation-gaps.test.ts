/**
 * Smaller federation features between two real processes: profiles of the other server's users
 * through the client API, OpenID tokens checked by a third party, invite v1 and the generic
 * `query/{queryType}`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildEvent } from '../src/core/event-builder.js';
import type { JsonObject } from '../src/core/json.js';
import type { Pdu } from '../src/core/pdu.js';
import { getRoomVersion, type RoomVersion } from '../src/rooms/versions.js';
import { api, assertError, type TestUser } from './harness/client.js';
import { eventually } from './harness/eventually.js';
import { type Federation, fedRequest, signedFedRequest, startPair } from './harness/federation.js';
import { createRoomAs, waitFor } from './harness/room-helpers.js';
import type { TestServer } from './harness/server.js';

const enc = encodeURIComponent;

describe('federation gaps: remote profiles, OpenID, invite v1, query types', () => {
  let fed: Federation;
  let hs1: TestServer;
  let hs2: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    ({ fed, hs1, hs2, alice, bob } = await startPair({
      // dead.test points at a port where nothing listens.
      config: (name) => ({
        federation: { resolve: { 'dead.test': '127.0.0.1:1' } },
        // Short enough to watch a token expire.
        ...(name === 'hs1.test' ? { auth: { openid_token_lifetime_ms: 3000 } } : {}),
      }),
    }));
    const set = await api(hs1, 'PUT', `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`, {
      token: alice.accessToken,
      body: { displayname: 'Alice Liddell' },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
  });
  after(async () => {
    await fed?.close();
  });

  test('a user of hs2 reads the profile of a user of hs1; unknown users and unreachable servers answer as the spec says', async () => {
    const whole = await api(hs2, 'GET', `/_matrix/client/v3/profile/${enc(alice.userId)}`, { token: bob.accessToken });
    assert.equal(whole.status, 200, JSON.stringify(whole.body));
    assert.equal(whole.body.displayname, 'Alice Liddell');
    const name = await api(hs2, 'GET', `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`, { token: bob.accessToken });
    assert.deepEqual(name.body, { displayname: 'Alice Liddell' });
    assertError(await api(hs2, 'GET', `/_matrix/client/v3/profile/${enc(alice.userId)}/avatar_url`, { token: bob.accessToken }), 404, 'M_NOT_FOUND');
    assertError(await api(hs2, 'GET', `/_matrix/client/v3/profile/${enc('@nobody:hs1.test')}`, { token: bob.accessToken }), 404, 'M_NOT_FOUND');
    assertError(await api(hs2, 'GET', `/_matrix/client/v3/profile/${enc('@x:dead.test')}`, { token: bob.accessToken }), 502, 'M_UNKNOWN');
    // Someone else's profile on another server still cannot be changed from here.
    assertError(
      await api(hs2, 'PUT', `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`, { token: bob.accessToken, body: { displayname: 'x' } }),
      404,
      'M_NOT_FOUND',
    );
  });

  test('OpenID: a token from hs1 names its user at hs1’s userinfo (no X-Matrix) until it expires; forged tokens are refused', async () => {
    const path = `/_matrix/client/v3/user/${enc(alice.userId)}/openid/request_token`;
    assertError(await api(hs1, 'POST', path, { body: {} }), 401, 'M_MISSING_TOKEN');
    assertError(await api(hs1, 'POST', `/_matrix/client/v3/user/${enc('@bob:hs1.test')}/openid/request_token`, { token: alice.accessToken, body: {} }), 403, 'M_FORBIDDEN');
    const res = await api(hs1, 'POST', path, { token: alice.accessToken, body: {} });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.matrix_server_name, 'hs1.test');
    assert.equal(res.body.expires_in, 3);
    const token: string = res.body.access_token;
    const userinfo = (t: string) => fedRequest(fed, fed.get('hs1.test'), 'GET', `/_matrix/federation/v1/openid/userinfo?access_token=${enc(t)}`);
    const ok = await userinfo(token);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { sub: alice.userId });
    for (const forged of [`${token}A`, 'cmo_forged', alice.accessToken]) {
      const r = await userinfo(forged);
      assert.equal(r.status, 401, forged);
      assert.equal(r.body.errcode, 'M_UNKNOWN_TOKEN');
    }
    // The token is no access token, and hs2 knows nothing of it.
    assertError(await api(hs1, 'GET', '/_matrix/client/v3/account/whoami', { token }), 401, 'M_UNKNOWN_TOKEN');
    assert.equal((await fedRequest(fed, fed.get('hs2.test'), 'GET', `/_matrix/federation/v1/openid/userinfo?access_token=${enc(token)}`)).status, 401);
    await eventually(async () => (await userinfo(token)).status === 401, 'the OpenID token expires', 15_000);
    assert.equal((await userinfo(token)).body.errcode, 'M_UNKNOWN_TOKEN');
  });

  test('invite v1: hs2 invites a user of hs1 to a version 1 room; hs1 countersigns, answers [200, {event}] and shows the invite', async () => {
    const v1 = getRoomVersion('1') as RoomVersion;
    const hs2Key = fed.get('hs2.test').signingKey();
    const roomId = '!v1room:hs2.test';
    const invite = (over: { type?: string; stateKey?: string; membership?: string } = {}): Pdu => {
      const { pdu } = buildEvent(
        {
          type: over.type ?? 'm.room.member',
          stateKey: over.stateKey ?? alice.userId,
          sender: bob.userId,
          content: { membership: over.membership ?? 'invite' },
          roomId,
          prevEvents: ['$prev:hs2.test'],
          authEvents: ['$create:hs2.test'],
          depth: 3,
          originServerTs: Date.now(),
        },
        v1,
        'hs2.test',
        hs2Key,
      );
      const stripped: JsonObject[] = [{ type: 'm.room.create', state_key: '', sender: bob.userId, content: { room_version: '1' } }, { type: 'm.room.name', state_key: '', sender: bob.userId, content: { name: 'Old room' } }];
      return { ...pdu, unsigned: { invite_room_state: stripped } };
    };
    const put = (pdu: Pdu) =>
      signedFedRequest(fed, fed.get('hs2.test'), fed.get('hs1.test'), 'PUT', `/_matrix/federation/v1/invite/${enc(roomId)}/${enc(pdu.event_id as string)}`, pdu);

    const good = invite();
    const res = await put(good);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(Array.isArray(res.body), JSON.stringify(res.body));
    const [code, answer] = res.body as unknown as [number, { event: Pdu }];
    assert.equal(code, 200);
    assert.equal(answer.event.event_id, good.event_id);
    assert.ok(answer.event.signatures?.['hs1.test'], 'hs1 countersigned');
    assert.ok(answer.event.signatures?.['hs2.test'], 'hs2’s signature is kept');
    const invited = await waitFor('the v1 invite in alice’s /sync', async () => {
      const sync = await api(hs1, 'GET', '/_matrix/client/v3/sync', { token: alice.accessToken, query: { timeout: '0' } });
      return sync.body.rooms?.invite?.[roomId];
    });
    const names = invited.invite_state.events.filter((e: { type: string }) => e.type === 'm.room.name');
    assert.equal(names[0]?.content.name, 'Old room');

    // What invite v2 refuses, v1 refuses too.
    for (const bad of [invite({ membership: 'join' }), invite({ type: 'm.room.message' }), invite({ stateKey: bob.userId })]) {
      const r = await put(bad);
      assert.equal(r.status, 400, JSON.stringify(r.body));
    }
    const wrongSig = { ...invite(), content: { membership: 'invite', extra: 1 } };
    assert.equal((await put(wrongSig)).status, 400);
  });

  test('query/{queryType}: profile and directory answer; unknown types are 404 M_UNRECOGNIZED; X-Matrix is required', async () => {
    const roomId = await createRoomAs(hs1, alice, { room_alias_name: 'gaps' });
    const q = (path: string) => signedFedRequest(fed, fed.get('hs2.test'), fed.get('hs1.test'), 'GET', path);
    const dir = await q(`/_matrix/federation/v1/query/directory?room_alias=${enc('#gaps:hs1.test')}`);
    assert.equal(dir.status, 200, JSON.stringify(dir.body));
    assert.deepEqual(dir.body, { room_id: roomId, servers: ['hs1.test'] });
    const prof = await q(`/_matrix/federation/v1/query/profile?user_id=${enc(alice.userId)}&field=displayname`);
    assert.deepEqual(prof.body, { displayname: 'Alice Liddell' });
    const missingParam = await q('/_matrix/federation/v1/query/directory');
    assert.equal(missingParam.status, 400);
    const unknown = await q('/_matrix/federation/v1/query/org.example.weather?city=Paris');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.errcode, 'M_UNRECOGNIZED');
    const unsigned = await fedRequest(fed, fed.get('hs1.test'), 'GET', '/_matrix/federation/v1/query/org.example.weather');
    assert.equal(unsigned.status, 401);
  });
});
