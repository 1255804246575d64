/** POST /register with user-interactive auth, /register/available, registration tokens. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, login, registerUser, uniqueName } from './harness/client.js';
import { suiteServer } from './harness/suite.js';

const REGISTER = '/_matrix/client/v3/register';

describe('registration (open, m.login.dummy)', () => {
  const server = suiteServer();

  test('first request gets the 401 UIA challenge; completing m.login.dummy registers and logs in', async () => {
    const username = uniqueName('Dummy');
    const first = await api(server, 'POST', REGISTER, { body: { username, password: 'pw-1' } });
    assert.equal(first.status, 401);
    assert.deepEqual(first.body.flows, [{ stages: ['m.login.dummy'] }]);
    assert.equal(typeof first.body.session, 'string');
    assert.deepEqual(first.body.params, {});
    assert.equal(first.body.completed, undefined);
    assert.equal(first.body.errcode, undefined);

    const second = await api(server, 'POST', REGISTER, {
      body: {
        username,
        password: 'pw-1',
        initial_device_display_name: 'Test Phone',
        auth: { type: 'm.login.dummy', session: first.body.session },
      },
    });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.user_id, `@${username.toLowerCase()}:localhost`, 'user IDs are lower-cased');
    assert.equal(typeof second.body.access_token, 'string');
    assert.equal(typeof second.body.device_id, 'string');
    assert.equal(second.body.refresh_token, undefined);
    assert.equal(second.body.expires_in_ms, undefined);

    const who = await api(server, 'GET', '/_matrix/client/v3/account/whoami', { token: second.body.access_token });
    assert.deepEqual(who.body, { user_id: second.body.user_id, device_id: second.body.device_id, is_guest: false });
    const dev = await api(server, 'GET', `/_matrix/client/v3/devices/${second.body.device_id}`, {
      token: second.body.access_token,
    });
    assert.equal(dev.status, 200);
    assert.equal(dev.body.display_name, 'Test Phone');
  });

  test('taken and invalid usernames are refused before UIA', async () => {
    const user = await registerUser(server);
    const taken = await api(server, 'POST', REGISTER, { body: { username: user.localpart, password: 'x' } });
    assertError(taken, 400, 'M_USER_IN_USE');
    const bad = await api(server, 'POST', REGISTER, { body: { username: 'no spaces!', password: 'x' } });
    assertError(bad, 400, 'M_INVALID_USERNAME');
    const empty = await api(server, 'POST', REGISTER, { body: { username: '', password: 'x' } });
    assertError(empty, 400, 'M_INVALID_USERNAME');
    const long = await api(server, 'POST', REGISTER, { body: { username: 'a'.repeat(250), password: 'x' } });
    assertError(long, 400, 'M_INVALID_USERNAME');
  });

  test('GET /register/available', async () => {
    const user = await registerUser(server);
    const free = await api(server, 'GET', '/_matrix/client/v3/register/available', {
      query: { username: uniqueName('free') },
    });
    assert.deepEqual(free.body, { available: true });
    const taken = await api(server, 'GET', '/_matrix/client/v3/register/available', {
      query: { username: user.localpart.toUpperCase() },
    });
    assertError(taken, 400, 'M_USER_IN_USE');
    const invalid = await api(server, 'GET', '/_matrix/client/v3/register/available', { query: { username: 'a:b' } });
    assertError(invalid, 400, 'M_INVALID_USERNAME');
    assertError(await api(server, 'GET', '/_matrix/client/v3/register/available'), 400, 'M_MISSING_PARAM');
  });

  test('without a username the server picks one; inhibit_login returns only the user ID', async () => {
    const res = await api(server, 'POST', REGISTER, {
      body: { password: 'pw', inhibit_login: true, auth: { type: 'm.login.dummy' } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.user_id, /^@[a-z0-9._=\-/+]+:localhost$/);
    assert.equal(res.body.access_token, undefined);
    assert.equal(res.body.device_id, undefined);
    const l = await login(server, res.body.user_id, 'pw');
    assert.equal(l.status, 200);
  });

  test('a client-chosen device_id is used; refresh_token: true gets a refresh token and expiry', async () => {
    const res = await api(server, 'POST', REGISTER, {
      body: {
        username: uniqueName(),
        password: 'pw',
        device_id: 'MYDEVICE',
        refresh_token: true,
        auth: { type: 'm.login.dummy' },
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.device_id, 'MYDEVICE');
    assert.equal(typeof res.body.refresh_token, 'string');
    assert.equal(typeof res.body.expires_in_ms, 'number');
  });

  test('guests are refused; bad stage types and sessions are rejected', async () => {
    const guest = await api(server, 'POST', REGISTER, { query: { kind: 'guest' }, body: {} });
    assertError(guest, 403, 'M_GUEST_ACCESS_FORBIDDEN');
    const kind = await api(server, 'POST', REGISTER, { query: { kind: 'robot' }, body: {} });
    assertError(kind, 400, 'M_INVALID_PARAM');
    const wrongStage = await api(server, 'POST', REGISTER, {
      body: { username: uniqueName(), auth: { type: 'm.login.registration_token', token: 'x' } },
    });
    assert.equal(wrongStage.status, 401);
    assert.equal(wrongStage.body.errcode, 'M_FORBIDDEN');
    assert.ok(Array.isArray(wrongStage.body.flows));
    const badSession = await api(server, 'POST', REGISTER, {
      body: { username: uniqueName(), auth: { type: 'm.login.dummy', session: 'no-such-session' } },
    });
    assert.equal(badSession.status, 400);
    assert.equal(typeof badSession.body.errcode, 'string');
  });

  test('wrong body types are M_BAD_JSON, bad JSON is M_NOT_JSON', async () => {
    assertError(await api(server, 'POST', REGISTER, { body: { username: 42 } }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'POST', REGISTER, { body: { inhibit_login: 'yes' } }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'POST', REGISTER, { body: { auth: 'dummy' } }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'POST', REGISTER, { body: [1, 2] }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'POST', REGISTER, { rawBody: '{"username": "x",' }), 400, 'M_NOT_JSON');
    assertError(await api(server, 'POST', REGISTER, { rawBody: new Uint8Array([0x7b, 0xff, 0x7d]) }), 400, 'M_NOT_JSON');
  });
});

describe('registration disabled', () => {
  const server = suiteServer({ config: { registration: { enabled: false, tokens: ['tok'] } } });

  test('POST /register is 403 M_FORBIDDEN, token validity too', async () => {
    const res = await api(server, 'POST', REGISTER, { body: { username: 'x', auth: { type: 'm.login.dummy' } } });
    assertError(res, 403, 'M_FORBIDDEN');
    const v = await api(server, 'GET', '/_matrix/client/v1/register/m.login.registration_token/validity', {
      query: { token: 'tok' },
    });
    assertError(v, 403, 'M_FORBIDDEN');
  });
});

describe('registration with tokens required', () => {
  const server = suiteServer({
    config: { registration: { enabled: true, tokens_required: true, tokens: ['let-me-in', 'other.token'] } },
  });

  test('validity endpoint reports known tokens', async () => {
    const path = '/_matrix/client/v1/register/m.login.registration_token/validity';
    assert.deepEqual((await api(server, 'GET', path, { query: { token: 'let-me-in' } })).body, { valid: true });
    assert.deepEqual((await api(server, 'GET', path, { query: { token: 'nope' } })).body, { valid: false });
    assertError(await api(server, 'GET', path), 400, 'M_MISSING_PARAM');
  });

  test('the flow is m.login.registration_token; dummy is refused, a wrong token fails the stage', async () => {
    const username = uniqueName();
    const first = await api(server, 'POST', REGISTER, { body: { username, password: 'pw' } });
    assert.equal(first.status, 401);
    assert.deepEqual(first.body.flows, [{ stages: ['m.login.registration_token'] }]);
    const session = first.body.session;

    const dummy = await api(server, 'POST', REGISTER, {
      body: { username, password: 'pw', auth: { type: 'm.login.dummy', session } },
    });
    assert.equal(dummy.status, 401);
    assert.equal(dummy.body.errcode, 'M_FORBIDDEN');

    const wrong = await api(server, 'POST', REGISTER, {
      body: { username, password: 'pw', auth: { type: 'm.login.registration_token', token: 'nope', session } },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.errcode, 'M_FORBIDDEN');
    assert.equal(wrong.body.session, session);

    const ok = await api(server, 'POST', REGISTER, {
      body: { username, password: 'pw', auth: { type: 'm.login.registration_token', token: 'let-me-in', session } },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.user_id, `@${username}:localhost`);
  });
});
