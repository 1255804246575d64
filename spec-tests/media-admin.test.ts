/** Media admin: quarantine, deleting a user's media, usage report; admins only. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { api, assertError, login, registerUser, type TestUser } from './harness/client.js';
import { get, mxcPath, upload } from './harness/media.js';
import { startServer, type TestServer } from './harness/server.js';

const COMET = fileURLToPath(new URL('../../bin/comet.js', import.meta.url));

describe('media admin', () => {
  let server: TestServer;
  let admin: string;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    server = await startServer();
    execFileSync(process.execPath, [COMET, 'register-user', '--config', server.configPath, '--user', 'boss', '--password', 'pw', '--admin']);
    const res = await login(server, 'boss', 'pw');
    assert.equal(res.status, 200);
    admin = res.body.access_token;
    alice = await registerUser(server);
    bob = await registerUser(server);
  });
  after(async () => {
    await server.stop();
    server.cleanup();
  });

  test('non-admins are refused with 403 M_FORBIDDEN', async () => {
    const up = await upload(server, alice.accessToken, Buffer.from('x'), 'text/plain');
    const p = mxcPath(up.json.content_uri);
    assertError(await api(server, 'POST', `/_synapse/admin/v1/media/quarantine/${p}`, { token: alice.accessToken }), 403, 'M_FORBIDDEN');
    assertError(await api(server, 'DELETE', `/_synapse/admin/v1/users/${encodeURIComponent(bob.userId)}/media`, { token: alice.accessToken }), 403, 'M_FORBIDDEN');
    assertError(await api(server, 'GET', '/_synapse/admin/v1/statistics/users/media', { token: alice.accessToken }), 403, 'M_FORBIDDEN');
  });

  test('quarantined media is 404 for everyone (download, thumbnail, legacy) until released', async () => {
    const up = await upload(server, alice.accessToken, Buffer.from('bad stuff'), 'text/plain');
    const p = mxcPath(up.json.content_uri);
    assert.equal((await api(server, 'POST', `/_synapse/admin/v1/media/quarantine/${p}`, { token: admin })).status, 200);
    for (const [path, token] of [
      [`/_matrix/client/v1/media/download/${p}`, alice.accessToken],
      [`/_matrix/client/v1/media/download/${p}`, admin],
      [`/_matrix/client/v1/media/thumbnail/${p}?width=32&height=32`, bob.accessToken],
      [`/_matrix/media/v3/download/${p}`, undefined],
    ] as const) {
      const res = await get(server, path, token);
      assert.equal(res.status, 404, path);
      assert.equal(res.json.errcode, 'M_NOT_FOUND');
    }
    assert.equal((await api(server, 'POST', `/_synapse/admin/v1/media/unquarantine/${p}`, { token: admin })).status, 200);
    assert.equal((await get(server, `/_matrix/client/v1/media/download/${p}`, alice.accessToken)).status, 200);
    assertError(await api(server, 'POST', '/_synapse/admin/v1/media/quarantine/localhost/noSuchMedia', { token: admin }), 404, 'M_NOT_FOUND');
  });

  test('usage report, then deleting a user media removes records and unshared blobs only', async () => {
    const carol = await registerUser(server);
    const dave = await registerUser(server);
    const shared = Buffer.from('shared between carol and dave');
    const own = Buffer.alloc(5000, 7);
    const c1 = await upload(server, carol.accessToken, shared, 'text/plain');
    const c2 = await upload(server, carol.accessToken, own, 'application/octet-stream');
    const d1 = await upload(server, dave.accessToken, shared, 'text/plain');

    const usage = await api(server, 'GET', '/_synapse/admin/v1/statistics/users/media', { token: admin, query: { limit: '1000' } });
    assert.equal(usage.status, 200);
    const carolUsage = usage.body.users.find((u: { user_id: string }) => u.user_id === carol.userId);
    assert.deepEqual(carolUsage, { user_id: carol.userId, media_count: 2, media_length: shared.length + own.length });
    assert.equal(typeof usage.body.total, 'number');
    const paged = await api(server, 'GET', '/_synapse/admin/v1/statistics/users/media', { token: admin, query: { limit: '1' } });
    assert.equal(paged.body.users.length, 1);
    assert.equal(paged.body.next_token, 1);

    const blob = (b: Buffer) => {
      const sha = createHash('sha256').update(b).digest('hex');
      return join(server.dir, 'data', 'media', sha.slice(0, 2), sha.slice(2, 4), sha);
    };
    assert.ok(existsSync(blob(own)) && existsSync(blob(shared)));
    const del = await api(server, 'DELETE', `/_synapse/admin/v1/users/${encodeURIComponent(carol.userId)}/media`, { token: admin });
    assert.equal(del.status, 200);
    assert.equal(del.body.total, 2);
    assert.deepEqual(
      [...del.body.deleted_media].sort(),
      [c1.json.content_uri, c2.json.content_uri].map((u: string) => u.split('/').pop()).sort(),
    );
    assert.equal((await get(server, `/_matrix/client/v1/media/download/${mxcPath(c1.json.content_uri)}`, admin)).status, 404);
    assert.ok(!existsSync(blob(own)), 'an unshared blob is removed');
    assert.ok(existsSync(blob(shared)), 'a blob another user still uses stays');
    const still = await get(server, `/_matrix/client/v1/media/download/${mxcPath(d1.json.content_uri)}`, admin);
    assert.equal(still.bytes.toString(), shared.toString());
  });
});
