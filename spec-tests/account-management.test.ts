/** Devices, password change and deactivation, all guarded by password UIA. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, login, registerUser, type TestUser } from './harness/client.js';
import { suiteServer } from './harness/suite.js';

const WHOAMI = '/_matrix/client/v3/account/whoami';

function passwordAuth(user: TestUser, session: string, password = user.password) {
  return { type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password, session };
}

describe('account management', () => {
  const server = suiteServer();

  test('list, get and rename devices', async () => {
    const u = await registerUser(server);
    const second = await login(server, u.localpart, u.password, { initial_device_display_name: 'Laptop' });
    const list = await api(server, 'GET', '/_matrix/client/v3/devices', { token: u.accessToken });
    assert.equal(list.status, 200);
    const ids = list.body.devices.map((d: { device_id: string }) => d.device_id).sort();
    assert.deepEqual(ids, [u.deviceId, second.body.device_id].sort());
    const laptop = list.body.devices.find((d: { device_id: string }) => d.device_id === second.body.device_id);
    assert.equal(laptop.display_name, 'Laptop');
    assert.equal(typeof laptop.last_seen_ts, 'number');

    const path = `/_matrix/client/v3/devices/${second.body.device_id}`;
    const put = await api(server, 'PUT', path, { token: u.accessToken, body: { display_name: 'Work laptop' } });
    assert.equal(put.status, 200);
    const got = await api(server, 'GET', path, { token: u.accessToken });
    assert.equal(got.body.device_id, second.body.device_id);
    assert.equal(got.body.display_name, 'Work laptop');

    assertError(await api(server, 'GET', '/_matrix/client/v3/devices/NOPE', { token: u.accessToken }), 404, 'M_NOT_FOUND');
    const putMissing = await api(server, 'PUT', '/_matrix/client/v3/devices/NOPE', { token: u.accessToken, body: {} });
    assertError(putMissing, 404, 'M_NOT_FOUND');
    const badName = await api(server, 'PUT', path, { token: u.accessToken, body: { display_name: 5 } });
    assertError(badName, 400, 'M_BAD_JSON');
    // Another user's device is invisible.
    const other = await registerUser(server);
    assertError(await api(server, 'GET', path, { token: other.accessToken }), 404, 'M_NOT_FOUND');
  });

  test('deleting a device requires the password; the device and its token go away', async () => {
    const u = await registerUser(server);
    const second = await login(server, u.localpart, u.password);
    const path = `/_matrix/client/v3/devices/${second.body.device_id}`;
    const challenge = await api(server, 'DELETE', path, { token: u.accessToken, body: {} });
    assert.equal(challenge.status, 401);
    assert.deepEqual(challenge.body.flows, [{ stages: ['m.login.password'] }]);
    const session = challenge.body.session;

    const wrong = await api(server, 'DELETE', path, {
      token: u.accessToken,
      body: { auth: passwordAuth(u, session, 'not it') },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.errcode, 'M_FORBIDDEN');
    assert.equal(wrong.body.session, session);

    const other = await registerUser(server);
    const impostor = await api(server, 'DELETE', path, {
      token: u.accessToken,
      body: { auth: passwordAuth(other, session) },
    });
    assert.equal(impostor.status, 401, 'a password stage must prove the requesting user');

    const ok = await api(server, 'DELETE', path, { token: u.accessToken, body: { auth: passwordAuth(u, session) } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assertError(await api(server, 'GET', WHOAMI, { token: second.body.access_token }), 401, 'M_UNKNOWN_TOKEN');
    assertError(await api(server, 'GET', path, { token: u.accessToken }), 404, 'M_NOT_FOUND');

    // A session is bound to the request it was created for.
    const elsewhere = await api(server, 'DELETE', `/_matrix/client/v3/devices/${u.deviceId}`, {
      token: u.accessToken,
      body: { auth: passwordAuth(u, session) },
    });
    assertError(elsewhere, 403, 'M_FORBIDDEN');
  });

  test('POST /delete_devices deletes several devices at once', async () => {
    const u = await registerUser(server);
    const a = await login(server, u.localpart, u.password);
    const b = await login(server, u.localpart, u.password);
    const body = { devices: [a.body.device_id, b.body.device_id, 'NEVER-EXISTED'] };
    const challenge = await api(server, 'POST', '/_matrix/client/v3/delete_devices', { token: u.accessToken, body });
    assert.equal(challenge.status, 401);
    const ok = await api(server, 'POST', '/_matrix/client/v3/delete_devices', {
      token: u.accessToken,
      body: { ...body, auth: passwordAuth(u, challenge.body.session) },
    });
    assert.equal(ok.status, 200);
    const list = await api(server, 'GET', '/_matrix/client/v3/devices', { token: u.accessToken });
    assert.deepEqual(
      list.body.devices.map((d: { device_id: string }) => d.device_id),
      [u.deviceId],
    );
    const missing = await api(server, 'POST', '/_matrix/client/v3/delete_devices', { token: u.accessToken, body: {} });
    assertError(missing, 400, 'M_MISSING_PARAM');
  });

  test('changing the password logs out other devices unless logout_devices is false', async () => {
    const u = await registerUser(server);
    const other = await login(server, u.localpart, u.password);
    const path = '/_matrix/client/v3/account/password';
    const challenge = await api(server, 'POST', path, {
      token: u.accessToken,
      body: { new_password: 'second password', logout_devices: false },
    });
    assert.equal(challenge.status, 401);
    const ok = await api(server, 'POST', path, {
      token: u.accessToken,
      body: { new_password: 'second password', logout_devices: false, auth: passwordAuth(u, challenge.body.session) },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await api(server, 'GET', WHOAMI, { token: other.body.access_token })).status, 200);
    assertError(await login(server, u.localpart, u.password), 403, 'M_FORBIDDEN');
    assert.equal((await login(server, u.localpart, 'second password')).status, 200);

    const c2 = await api(server, 'POST', path, { token: u.accessToken, body: { new_password: 'third' } });
    const ok2 = await api(server, 'POST', path, {
      token: u.accessToken,
      body: { new_password: 'third', auth: passwordAuth(u, c2.body.session, 'second password') },
    });
    assert.equal(ok2.status, 200);
    assertError(await api(server, 'GET', WHOAMI, { token: other.body.access_token }), 401, 'M_UNKNOWN_TOKEN');
    assert.equal((await api(server, 'GET', WHOAMI, { token: u.accessToken })).status, 200, 'the requesting device stays');
    assertError(await api(server, 'POST', path, { token: u.accessToken, body: {} }), 400, 'M_MISSING_PARAM');
  });

  test('deactivation: UIA, then every token dies and login says M_USER_DEACTIVATED', async () => {
    const u = await registerUser(server);
    const path = '/_matrix/client/v3/account/deactivate';
    const challenge = await api(server, 'POST', path, { token: u.accessToken, body: {} });
    assert.equal(challenge.status, 401);
    assert.deepEqual(challenge.body.flows, [{ stages: ['m.login.password'] }]);
    const ok = await api(server, 'POST', path, {
      token: u.accessToken,
      body: { auth: passwordAuth(u, challenge.body.session) },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.id_server_unbind_result, 'success');
    assertError(await api(server, 'GET', WHOAMI, { token: u.accessToken }), 401, 'M_UNKNOWN_TOKEN');
    assertError(await login(server, u.localpart, u.password), 403, 'M_USER_DEACTIVATED');
    const again = await api(server, 'POST', '/_matrix/client/v3/register', {
      body: { username: u.localpart, password: 'x', auth: { type: 'm.login.dummy' } },
    });
    assertError(again, 400, 'M_USER_IN_USE');
  });

  test('deactivation with erase removes the profile', async () => {
    const u = await registerUser(server);
    const path = '/_matrix/client/v3/account/deactivate';
    const challenge = await api(server, 'POST', path, { token: u.accessToken, body: { erase: true } });
    const ok = await api(server, 'POST', path, {
      token: u.accessToken,
      body: { erase: true, auth: passwordAuth(u, challenge.body.session) },
    });
    assert.equal(ok.status, 200);
    const profile = await api(server, 'GET', `/_matrix/client/v3/profile/${encodeURIComponent(u.userId)}`);
    assert.deepEqual(profile.body, {});
  });
});
