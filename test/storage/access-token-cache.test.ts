/**
 * The device store caches access-token lookups: every way a token stops being valid must also
 * end its cached entry. Each case looks the token up first (so it is cached), then revokes it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewSession } from '../../src/storage/storage.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

const USER = '@a:x';

function session(deviceId: string, token: string, refresh: string | null = null): NewSession {
  return {
    userId: USER,
    deviceId,
    initialDisplayName: null,
    accessTokenHash: token,
    refreshTokenHash: refresh,
    accessExpiresTs: refresh === null ? null : 10_000_000,
    ip: null,
    now: 1000,
  };
}

async function withUser(sessions: NewSession[]): Promise<SqliteStorage> {
  const s = SqliteStorage.open(':memory:');
  await s.accounts.createUser({ userId: USER, passwordHash: 'h', isAdmin: false, createdTs: 1, profile: {} });
  for (const x of sessions) await s.devices.createSession(x);
  for (const x of sessions) assert.ok(await s.devices.getAccessToken(x.accessTokenHash), 'token known (and now cached)');
  return s;
}

test('logout (this device) ends the cached token; other devices keep theirs', async () => {
  const s = await withUser([session('D1', 't1'), session('D2', 't2')]);
  await s.devices.deleteDevices(USER, ['D1']);
  assert.equal(await s.devices.getAccessToken('t1'), undefined);
  assert.equal((await s.devices.getAccessToken('t2'))?.deviceId, 'D2');
  await s.close();
});

test('logout/all ends every cached token of the user', async () => {
  const s = await withUser([session('D1', 't1'), session('D2', 't2')]);
  await s.devices.deleteAllDevices(USER, null);
  assert.equal(await s.devices.getAccessToken('t1'), undefined);
  assert.equal(await s.devices.getAccessToken('t2'), undefined);
  await s.close();
});

test('deleting another device ends its cached token', async () => {
  const s = await withUser([session('D1', 't1'), session('D2', 't2')]);
  await s.devices.deleteDevices(USER, ['D2']);
  assert.equal(await s.devices.getAccessToken('t2'), undefined);
  assert.ok(await s.devices.getAccessToken('t1'));
  await s.close();
});

test('a password change with logout_devices ends the other devices cached tokens', async () => {
  const s = await withUser([session('D1', 't1'), session('D2', 't2')]);
  await s.accounts.changePassword(USER, 'h2', { keepDeviceId: 'D1' });
  assert.ok(await s.devices.getAccessToken('t1'));
  assert.equal(await s.devices.getAccessToken('t2'), undefined);
  await s.close();
});

test('deactivation ends every cached token', async () => {
  const s = await withUser([session('D1', 't1'), session('D2', 't2')]);
  await s.accounts.deactivate(USER, false);
  assert.equal(await s.devices.getAccessToken('t1'), undefined);
  assert.equal(await s.devices.getAccessToken('t2'), undefined);
  await s.close();
});

test('refresh: the first use of the new access token ends the old cached one', async () => {
  const s = await withUser([session('D1', 'old', 'r-old')]);
  const r = await s.devices.refresh('r-old', 'new', 'r-new', 20_000_000, 2000);
  assert.ok(r.ok);
  assert.ok(await s.devices.getAccessToken('old'), 'the old token works until the new one is used');
  const fresh = await s.devices.getAccessToken('new');
  assert.ok(fresh && fresh.supersedesRefreshTokenId !== null);
  await s.devices.consumeSupersededRefreshToken(fresh.tokenId);
  assert.equal(await s.devices.getAccessToken('old'), undefined);
  assert.equal((await s.devices.getAccessToken('new'))?.supersedesRefreshTokenId, null, 'cached state follows the change');
  await s.close();
});

test('a repeated refresh revokes the unused earlier answer, cached or not', async () => {
  const s = await withUser([session('D1', 'old', 'r-old')]);
  assert.ok((await s.devices.refresh('r-old', 'first', 'r-first', 20_000_000, 2000)).ok);
  assert.ok(await s.devices.getAccessToken('first'));
  assert.ok((await s.devices.refresh('r-old', 'second', 'r-second', 20_000_000, 2001)).ok);
  assert.equal(await s.devices.getAccessToken('first'), undefined);
  assert.ok(await s.devices.getAccessToken('second'));
  await s.close();
});

test('logging in again as an existing device replaces its cached token', async () => {
  const s = await withUser([session('D1', 't1')]);
  await s.devices.createSession(session('D1', 't1b'));
  assert.equal(await s.devices.getAccessToken('t1'), undefined);
  assert.ok(await s.devices.getAccessToken('t1b'));
  await s.close();
});

test('last-seen updates reach the cached entry', async () => {
  const s = await withUser([session('D1', 't1')]);
  await s.devices.touchDevice(USER, 'D1', '10.0.0.1', 99_000);
  assert.equal((await s.devices.getAccessToken('t1'))?.deviceLastSeenTs, 99_000);
  await s.close();
});
