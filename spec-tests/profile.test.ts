/** Profiles: whole-profile and per-field reads, updates and deletion. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, registerUser } from './harness/client.js';
import { suiteServer } from './harness/suite.js';

const profilePath = (userId: string, key?: string) =>
  `/_matrix/client/v3/profile/${encodeURIComponent(userId)}${key ? `/${key}` : ''}`;

describe('profile', () => {
  const server = suiteServer();

  test('a new user’s display name is the localpart; set, read and delete fields', async () => {
    const u = await registerUser(server);
    assert.deepEqual((await api(server, 'GET', profilePath(u.userId))).body, { displayname: u.localpart });

    const setName = await api(server, 'PUT', profilePath(u.userId, 'displayname'), {
      token: u.accessToken,
      body: { displayname: 'Alice Ü' },
    });
    assert.equal(setName.status, 200);
    const setAvatar = await api(server, 'PUT', profilePath(u.userId, 'avatar_url'), {
      token: u.accessToken,
      body: { avatar_url: 'mxc://localhost/abc123' },
    });
    assert.equal(setAvatar.status, 200);
    const custom = await api(server, 'PUT', profilePath(u.userId, 'org.example.pets'), {
      token: u.accessToken,
      body: { 'org.example.pets': ['cat', { name: 'dog' }] },
    });
    assert.equal(custom.status, 200);

    assert.deepEqual((await api(server, 'GET', profilePath(u.userId))).body, {
      displayname: 'Alice Ü',
      avatar_url: 'mxc://localhost/abc123',
      'org.example.pets': ['cat', { name: 'dog' }],
    });
    assert.deepEqual((await api(server, 'GET', profilePath(u.userId, 'displayname'))).body, { displayname: 'Alice Ü' });

    const del = await api(server, 'DELETE', profilePath(u.userId, 'org.example.pets'), { token: u.accessToken });
    assert.equal(del.status, 200);
    assertError(await api(server, 'GET', profilePath(u.userId, 'org.example.pets')), 404, 'M_NOT_FOUND');
    const clearAvatar = await api(server, 'PUT', profilePath(u.userId, 'avatar_url'), {
      token: u.accessToken,
      body: { avatar_url: '' },
    });
    assert.equal(clearAvatar.status, 200);
    assert.deepEqual((await api(server, 'GET', profilePath(u.userId))).body, { displayname: 'Alice Ü' });
  });

  test('errors: other users, bad values, bad keys, unknown users', async () => {
    const u = await registerUser(server);
    const other = await registerUser(server);
    const forbidden = await api(server, 'PUT', profilePath(other.userId, 'displayname'), {
      token: u.accessToken,
      body: { displayname: 'hijacked' },
    });
    assertError(forbidden, 403, 'M_FORBIDDEN');
    const noToken = await api(server, 'PUT', profilePath(u.userId, 'displayname'), { body: { displayname: 'x' } });
    assertError(noToken, 401, 'M_MISSING_TOKEN');
    const wrongType = await api(server, 'PUT', profilePath(u.userId, 'displayname'), {
      token: u.accessToken,
      body: { displayname: 12 },
    });
    assertError(wrongType, 400, 'M_BAD_JSON');
    const badMxc = await api(server, 'PUT', profilePath(u.userId, 'avatar_url'), {
      token: u.accessToken,
      body: { avatar_url: 'https://example.org/a.png' },
    });
    assertError(badMxc, 400, 'M_BAD_JSON');
    const missing = await api(server, 'PUT', profilePath(u.userId, 'displayname'), {
      token: u.accessToken,
      body: { avatar_url: 'mxc://a/b' },
    });
    assertError(missing, 400, 'M_MISSING_PARAM');
    const badKey = await api(server, 'PUT', profilePath(u.userId, 'Bad-Key'), {
      token: u.accessToken,
      body: { 'Bad-Key': 1 },
    });
    assertError(badKey, 400, 'M_INVALID_PARAM');
    const huge = await api(server, 'PUT', profilePath(u.userId, 'org.example.big'), {
      token: u.accessToken,
      body: { 'org.example.big': 'x'.repeat(70_000) },
    });
    assertError(huge, 400, 'M_PROFILE_TOO_LARGE');
    assertError(await api(server, 'GET', profilePath('@nobody:localhost')), 404, 'M_NOT_FOUND');
    assertError(await api(server, 'GET', profilePath('not-a-user-id')), 400, 'M_INVALID_PARAM');
    assertError(await api(server, 'GET', profilePath(u.userId, 'org.example.unset')), 404, 'M_NOT_FOUND');
  });
});
