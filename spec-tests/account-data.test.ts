/** Filters, global and room account data, and room tags. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError, registerUser } from './harness/client.js';
import { suiteServer } from './harness/suite.js';

const enc = encodeURIComponent;
const ROOM = '!someroom:localhost';

describe('filters, account data, tags', () => {
  const server = suiteServer();

  test('create and fetch filters', async () => {
    const u = await registerUser(server);
    const filter = {
      room: { timeline: { limit: 10, types: ['m.room.message'], lazy_load_members: true }, state: { lazy_load_members: true } },
      presence: { not_types: ['*'] },
      event_format: 'client',
      'org.example.extra': true,
    };
    const created = await api(server, 'POST', `/_matrix/client/v3/user/${enc(u.userId)}/filter`, {
      token: u.accessToken,
      body: filter,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(typeof created.body.filter_id, 'string');
    assert.ok(!created.body.filter_id.startsWith('{'));
    const second = await api(server, 'POST', `/_matrix/client/v3/user/${enc(u.userId)}/filter`, {
      token: u.accessToken,
      body: {},
    });
    assert.notEqual(second.body.filter_id, created.body.filter_id);

    const got = await api(server, 'GET', `/_matrix/client/v3/user/${enc(u.userId)}/filter/${created.body.filter_id}`, {
      token: u.accessToken,
    });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, filter);
  });

  test('filter errors', async () => {
    const u = await registerUser(server);
    const other = await registerUser(server);
    const path = `/_matrix/client/v3/user/${enc(u.userId)}/filter`;
    assertError(await api(server, 'POST', path, { token: u.accessToken, body: { room: { timeline: { limit: 'ten' } } } }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'POST', path, { token: u.accessToken, body: { event_format: 'xml' } }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'POST', path, { token: u.accessToken, body: { room: { rooms: ['not-a-room'] } } }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'POST', path, { token: other.accessToken, body: {} }), 403, 'M_FORBIDDEN');
    assertError(await api(server, 'GET', `${path}/12345`, { token: u.accessToken }), 404, 'M_NOT_FOUND');
    assertError(await api(server, 'GET', `${path}/abc`, { token: u.accessToken }), 404, 'M_NOT_FOUND');
    const created = await api(server, 'POST', path, { token: u.accessToken, body: {} });
    const foreign = await api(server, 'GET', `/_matrix/client/v3/user/${enc(other.userId)}/filter/${created.body.filter_id}`, {
      token: other.accessToken,
    });
    assertError(foreign, 404, 'M_NOT_FOUND');
  });

  test('global account data: put, get, overwrite; errors', async () => {
    const u = await registerUser(server);
    const path = `/_matrix/client/v3/user/${enc(u.userId)}/account_data/org.example.settings`;
    assertError(await api(server, 'GET', path, { token: u.accessToken }), 404, 'M_NOT_FOUND');
    assert.equal((await api(server, 'PUT', path, { token: u.accessToken, body: { theme: 'dark' } })).status, 200);
    assert.deepEqual((await api(server, 'GET', path, { token: u.accessToken })).body, { theme: 'dark' });
    await api(server, 'PUT', path, { token: u.accessToken, body: { theme: 'light', n: 2 } });
    assert.deepEqual((await api(server, 'GET', path, { token: u.accessToken })).body, { theme: 'light', n: 2 });

    const other = await registerUser(server);
    assertError(await api(server, 'GET', path, { token: other.accessToken }), 403, 'M_FORBIDDEN');
    assertError(await api(server, 'PUT', path, { token: other.accessToken, body: {} }), 403, 'M_FORBIDDEN');
    assertError(await api(server, 'PUT', path, { token: u.accessToken, rawBody: '"just a string"' }), 400, 'M_BAD_JSON');
    assertError(await api(server, 'PUT', path, { token: u.accessToken, rawBody: 'not json' }), 400, 'M_NOT_JSON');
    const fullyRead = `/_matrix/client/v3/user/${enc(u.userId)}/account_data/m.push_rules`;
    assertError(await api(server, 'PUT', fullyRead, { token: u.accessToken, body: {} }), 405, 'M_BAD_JSON');
    assertError(await api(server, 'GET', path), 401, 'M_MISSING_TOKEN');
  });

  test('room account data is separate from global account data', async () => {
    const u = await registerUser(server);
    const roomPath = `/_matrix/client/v3/user/${enc(u.userId)}/rooms/${enc(ROOM)}/account_data/org.example.x`;
    const globalPath = `/_matrix/client/v3/user/${enc(u.userId)}/account_data/org.example.x`;
    assert.equal((await api(server, 'PUT', roomPath, { token: u.accessToken, body: { room: true } })).status, 200);
    assert.deepEqual((await api(server, 'GET', roomPath, { token: u.accessToken })).body, { room: true });
    assertError(await api(server, 'GET', globalPath, { token: u.accessToken }), 404, 'M_NOT_FOUND');
    const badRoom = `/_matrix/client/v3/user/${enc(u.userId)}/rooms/${enc('#alias:localhost')}/account_data/x`;
    assertError(await api(server, 'PUT', badRoom, { token: u.accessToken, body: {} }), 400, 'M_INVALID_PARAM');
    assertError(await api(server, 'GET', badRoom, { token: u.accessToken }), 400, 'M_INVALID_PARAM');
    const fullyRead = `/_matrix/client/v3/user/${enc(u.userId)}/rooms/${enc(ROOM)}/account_data/m.fully_read`;
    assertError(await api(server, 'PUT', fullyRead, { token: u.accessToken, body: { event_id: '$x' } }), 405, 'M_BAD_JSON');
  });

  test('tags: add, list, remove; stored as m.tag room account data', async () => {
    const u = await registerUser(server);
    const tags = `/_matrix/client/v3/user/${enc(u.userId)}/rooms/${enc(ROOM)}/tags`;
    assert.deepEqual((await api(server, 'GET', tags, { token: u.accessToken })).body, { tags: {} });
    assert.equal((await api(server, 'PUT', `${tags}/m.favourite`, { token: u.accessToken, body: { order: 0.25 } })).status, 200);
    assert.equal((await api(server, 'PUT', `${tags}/u.work`, { token: u.accessToken, body: {} })).status, 200);
    assert.deepEqual((await api(server, 'GET', tags, { token: u.accessToken })).body, {
      tags: { 'm.favourite': { order: 0.25 }, 'u.work': {} },
    });
    const asAccountData = await api(server, 'GET', `/_matrix/client/v3/user/${enc(u.userId)}/rooms/${enc(ROOM)}/account_data/m.tag`, {
      token: u.accessToken,
    });
    assert.deepEqual(asAccountData.body, { tags: { 'm.favourite': { order: 0.25 }, 'u.work': {} } });
    assert.equal((await api(server, 'DELETE', `${tags}/m.favourite`, { token: u.accessToken })).status, 200);
    assert.deepEqual((await api(server, 'GET', tags, { token: u.accessToken })).body, { tags: { 'u.work': {} } });
    assertError(await api(server, 'PUT', `${tags}/x`, { token: u.accessToken, body: { order: 'first' } }), 400, 'M_BAD_JSON');
    const other = await registerUser(server);
    assertError(await api(server, 'GET', tags, { token: other.accessToken }), 403, 'M_FORBIDDEN');
  });
});
