/** Login, logout, whoami and the refresh-token flow. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, login, registerUser } from './harness/client.js';
import { suiteServer } from './harness/suite.js';

const WHOAMI = '/_matrix/client/v3/account/whoami';
/** Short enough to watch a token expire, long enough for the requests made while it is fresh. */
const ACCESS_LIFETIME_MS = 1500;

describe('login and logout', () => {
  const server = suiteServer({ config: { auth: { refreshable_access_token_lifetime_ms: ACCESS_LIFETIME_MS } } });

  test('GET /login lists m.login.password', async () => {
    const res = await api(server, 'GET', '/_matrix/client/v3/login');
    assert.equal(res.status, 200);
    assert.ok(res.body.flows.some((f: { type: string }) => f.type === 'm.login.password'));
  });

  test('password login by localpart, by full user ID, and with the legacy user field', async () => {
    const u = await registerUser(server);
    const byLocalpart = await login(server, u.localpart, u.password);
    assert.equal(byLocalpart.status, 200, JSON.stringify(byLocalpart.body));
    assert.equal(byLocalpart.body.user_id, u.userId);
    assert.notEqual(byLocalpart.body.device_id, u.deviceId, 'a new device per login');
    assert.equal(byLocalpart.body.well_known['m.homeserver'].base_url, 'http://localhost:8008/');
    const upper = await login(server, `@${u.localpart.toUpperCase()}:localhost`, u.password);
    assert.equal(upper.status, 200, 'localparts are case-insensitive at login');
    assert.equal(upper.body.user_id, u.userId);
    const byFullId = await login(server, u.userId, u.password);
    assert.equal(byFullId.status, 200);
    const legacy = await api(server, 'POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.password', user: u.localpart, password: u.password },
    });
    assert.equal(legacy.status, 200);
    const who = await api(server, 'GET', WHOAMI, { token: legacy.body.access_token });
    assert.equal(who.body.user_id, u.userId);
    assert.equal(who.body.device_id, legacy.body.device_id);
  });

  test('login failures', async () => {
    const u = await registerUser(server);
    assertError(await login(server, u.localpart, 'wrong'), 403, 'M_FORBIDDEN');
    assertError(await login(server, 'nobody-here', 'x'), 403, 'M_FORBIDDEN');
    assertError(await login(server, '@someone:elsewhere.example', 'x'), 403, 'M_FORBIDDEN');
    const tp = await api(server, 'POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.password', identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'a@b.c' }, password: 'x' },
    });
    assertError(tp, 403, 'M_FORBIDDEN');
    const badType = await api(server, 'POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.fingerprint', identifier: { type: 'm.id.user', user: u.localpart } },
    });
    assertError(badType, 400, 'M_UNKNOWN');
    assertError(await api(server, 'POST', '/_matrix/client/v3/login', { body: {} }), 400, 'M_MISSING_PARAM');
    const noPw = await api(server, 'POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: u.localpart } },
    });
    assertError(noPw, 400, 'M_MISSING_PARAM');
    const pwType = await api(server, 'POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: u.localpart }, password: 12 },
    });
    assertError(pwType, 400, 'M_BAD_JSON');
  });

  test('logging in with an existing device_id replaces that device’s old token', async () => {
    const u = await registerUser(server);
    const first = await login(server, u.localpart, u.password, { device_id: 'KEEPME' });
    const second = await login(server, u.localpart, u.password, { device_id: 'KEEPME' });
    assert.equal(second.body.device_id, 'KEEPME');
    assertError(await api(server, 'GET', WHOAMI, { token: first.body.access_token }), 401, 'M_UNKNOWN_TOKEN');
    assert.equal((await api(server, 'GET', WHOAMI, { token: second.body.access_token })).status, 200);
  });

  test('logout invalidates only that token; logout/all invalidates every token', async () => {
    const u = await registerUser(server);
    const a = await login(server, u.localpart, u.password);
    const b = await login(server, u.localpart, u.password);
    const out = await api(server, 'POST', '/_matrix/client/v3/logout', { token: a.body.access_token });
    assert.equal(out.status, 200);
    assert.deepEqual(out.body, {});
    const gone = await api(server, 'GET', WHOAMI, { token: a.body.access_token });
    assertError(gone, 401, 'M_UNKNOWN_TOKEN');
    assert.equal(gone.body.soft_logout, undefined);
    assert.equal((await api(server, 'GET', WHOAMI, { token: b.body.access_token })).status, 200);

    const all = await api(server, 'POST', '/_matrix/client/v3/logout/all', { token: b.body.access_token });
    assert.equal(all.status, 200);
    assertError(await api(server, 'GET', WHOAMI, { token: b.body.access_token }), 401, 'M_UNKNOWN_TOKEN');
    assertError(await api(server, 'GET', WHOAMI, { token: u.accessToken }), 401, 'M_UNKNOWN_TOKEN');
    assertError(await api(server, 'POST', '/_matrix/client/v3/logout'), 401, 'M_MISSING_TOKEN');
  });

  test('refresh flow: expiry → soft logout → refresh → old refresh token revoked once the new one is used', async () => {
    const u = await registerUser(server);
    const l = await login(server, u.localpart, u.password, { refresh_token: true });
    assert.equal(l.status, 200);
    assert.equal(l.body.expires_in_ms, ACCESS_LIFETIME_MS);
    const r0 = l.body.refresh_token as string;
    assert.equal((await api(server, 'GET', WHOAMI, { token: l.body.access_token })).status, 200);

    // Wait (with a deadline) until the access token has expired: the server must then say soft_logout.
    const deadline = Date.now() + 10 * ACCESS_LIFETIME_MS;
    let expired = await api(server, 'GET', WHOAMI, { token: l.body.access_token });
    while (expired.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      expired = await api(server, 'GET', WHOAMI, { token: l.body.access_token });
    }
    assertError(expired, 401, 'M_UNKNOWN_TOKEN');
    assert.equal(expired.body.soft_logout, true);

    const r1 = await api(server, 'POST', '/_matrix/client/v3/refresh', { body: { refresh_token: r0 } });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.equal(typeof r1.body.access_token, 'string');
    assert.equal(typeof r1.body.refresh_token, 'string');
    assert.equal(r1.body.expires_in_ms, ACCESS_LIFETIME_MS);

    // The client may not have received r1: the old refresh token still works until the new tokens are used.
    const r1again = await api(server, 'POST', '/_matrix/client/v3/refresh', { body: { refresh_token: r0 } });
    assert.equal(r1again.status, 200);
    // …and that repeat replaced the unused first answer.
    assertError(await api(server, 'GET', WHOAMI, { token: r1.body.access_token }), 401, 'M_UNKNOWN_TOKEN');

    const who = await api(server, 'GET', WHOAMI, { token: r1again.body.access_token });
    assert.equal(who.status, 200);
    assert.equal(who.body.device_id, l.body.device_id, 'refreshed tokens stay on the same device');

    const stale = await api(server, 'POST', '/_matrix/client/v3/refresh', { body: { refresh_token: r0 } });
    assertError(stale, 401, 'M_UNKNOWN_TOKEN');
    const r2 = await api(server, 'POST', '/_matrix/client/v3/refresh', { body: { refresh_token: r1again.body.refresh_token } });
    assert.equal(r2.status, 200);
    assertError(await api(server, 'POST', '/_matrix/client/v3/refresh', { body: { refresh_token: 'bogus' } }), 401, 'M_UNKNOWN_TOKEN');
    assertError(await api(server, 'POST', '/_matrix/client/v3/refresh', { body: {} }), 400, 'M_MISSING_PARAM');
  });

  test('clients that do not ask for refresh tokens get tokens that do not expire', async () => {
    const u = await registerUser(server);
    const l = await login(server, u.localpart, u.password);
    assert.equal(l.body.refresh_token, undefined);
    assert.equal(l.body.expires_in_ms, undefined);
  });
});
