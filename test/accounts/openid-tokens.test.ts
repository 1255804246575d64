import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { issueOpenIdToken, openIdTokenOwner } from '../../src/accounts/openid-tokens.js';
import { hashToken } from '../../src/accounts/tokens.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

describe('OpenID tokens', () => {
  test('a token names its user until it expires; unknown tokens name nobody', async () => {
    const storage = SqliteStorage.open(':memory:');
    const store = storage.openIdTokens;
    const issued = await issueOpenIdToken(store, { userId: '@alice:a.test', serverName: 'a.test', now: 10_000, lifetimeMs: 3_600_000 });
    assert.equal(issued.token_type, 'Bearer');
    assert.equal(issued.matrix_server_name, 'a.test');
    assert.equal(issued.expires_in, 3600);
    assert.equal(await openIdTokenOwner(store, issued.access_token, 10_000), '@alice:a.test');
    assert.equal(await openIdTokenOwner(store, issued.access_token, 10_000 + 3_599_999), '@alice:a.test');
    assert.equal(await openIdTokenOwner(store, issued.access_token, 10_000 + 3_600_000), undefined);
    for (const forged of ['', `${issued.access_token}x`, issued.access_token.slice(0, -1), 'x'.repeat(10_000)]) {
      assert.equal(await openIdTokenOwner(store, forged, 10_000), undefined);
    }
    await storage.close();
  });

  test('only the hash is stored, and expired tokens are purged when new ones are issued', async () => {
    const storage = SqliteStorage.open(':memory:');
    const a = await issueOpenIdToken(storage.openIdTokens, { userId: '@a:a.test', serverName: 'a.test', now: 0, lifetimeMs: 1000 });
    const rows = () => storage.db.prepare('SELECT token_hash FROM openid_tokens').pluck().all() as string[];
    assert.deepEqual(rows(), [hashToken(a.access_token)]);
    const b = await issueOpenIdToken(storage.openIdTokens, { userId: '@b:a.test', serverName: 'a.test', now: 1000, lifetimeMs: 1000 });
    assert.deepEqual(rows(), [hashToken(b.access_token)]);
    assert.notEqual(a.access_token, b.access_token);
    await storage.close();
  });
});
