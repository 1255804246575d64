/**
 * Smaller federation features between two real processes: profiles of the other server's users
 * through the client API, OpenID tokens checked by a third party, invite v1 and the generic
 * `query/{queryType}`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { type Federation, startFederation } from './harness/federation.js';
import type { TestServer } from './harness/server.js';

const enc = encodeURIComponent;

describe('federation gaps: remote profiles, OpenID, invite v1, query types', () => {
  let fed: Federation;
  let hs1: TestServer;
  let hs2: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    fed = await startFederation(['hs1.test', 'hs2.test'], {
      // dead.test points at a port where nothing listens.
      config: () => ({ federation: { resolve: { 'dead.test': '127.0.0.1:1' } } }),
    });
    hs1 = fed.get('hs1.test').server;
    hs2 = fed.get('hs2.test').server;
    alice = await registerUser(hs1, 'alice');
    bob = await registerUser(hs2, 'bob');
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
});
