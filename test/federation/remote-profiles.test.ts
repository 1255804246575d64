import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { FederationError, type FederationRequestOptions } from '../../federation/client/federation-client.js';
import { RemoteProfiles } from '../../federation/users/remote-profiles.js';
import type { JsonObject } from '../../src/core/json.js';

const logger = pino({ level: 'silent' });

interface Call {
  destination: string;
  path: string;
  query: FederationRequestOptions['query'];
}

/** A transport answering from `answer`, recording every request. */
function fakeTransport(answer: (userId: string, field: string | undefined) => JsonObject | Error) {
  const calls: Call[] = [];
  return {
    calls,
    async request<T>(destination: string, _method: string, path: string, opts: FederationRequestOptions = {}): Promise<T> {
      calls.push({ destination, path, query: opts.query });
      const r = answer(String(opts.query?.user_id), opts.query?.field as string | undefined);
      if (r instanceof Error) throw r;
      return r as T;
    },
  };
}

describe('RemoteProfiles', () => {
  test('asks the user’s server, with the field when one is wanted, and keeps only that field', async () => {
    const t = fakeTransport(() => ({ displayname: 'Bob', avatar_url: 'mxc://b/x', extra: 1 }));
    const profiles = new RemoteProfiles({ transport: t, now: () => 0, logger });
    assert.deepEqual(await profiles.lookup('@bob:b.test'), { ok: true, profile: { displayname: 'Bob', avatar_url: 'mxc://b/x', extra: 1 } });
    assert.deepEqual(await profiles.lookup('@bob:b.test', 'displayname'), { ok: true, profile: { displayname: 'Bob' } });
    assert.deepEqual(await profiles.lookup('@bob:b.test', 'm.tz'), { ok: true, profile: {} });
    assert.deepEqual(
      t.calls.map((c) => [c.destination, c.path, c.query?.user_id, c.query?.field]),
      [
        ['b.test', '/_matrix/federation/v1/query/profile', '@bob:b.test', undefined],
        ['b.test', '/_matrix/federation/v1/query/profile', '@bob:b.test', 'displayname'],
        ['b.test', '/_matrix/federation/v1/query/profile', '@bob:b.test', 'm.tz'],
      ],
    );
  });

  test('answers are reused until they are older than the TTL', async () => {
    let now = 1000;
    let name = 'Bob';
    const t = fakeTransport(() => ({ displayname: name }));
    const profiles = new RemoteProfiles({ transport: t, now: () => now, logger, ttlMs: 60_000 });
    await profiles.lookup('@bob:b.test');
    name = 'Robert';
    now += 59_999;
    assert.deepEqual(await profiles.lookup('@bob:b.test'), { ok: true, profile: { displayname: 'Bob' } });
    assert.equal(t.calls.length, 1);
    now += 1;
    assert.deepEqual(await profiles.lookup('@bob:b.test'), { ok: true, profile: { displayname: 'Robert' } });
    assert.equal(t.calls.length, 2);
  });

  test('the cache is bounded: the oldest answer goes first', async () => {
    const t = fakeTransport((userId) => ({ displayname: userId }));
    const profiles = new RemoteProfiles({ transport: t, now: () => 0, logger, maxEntries: 2 });
    for (const u of ['@a:b.test', '@b:b.test', '@c:b.test']) await profiles.lookup(u);
    await profiles.lookup('@c:b.test');
    await profiles.lookup('@b:b.test');
    assert.equal(t.calls.length, 3);
    await profiles.lookup('@a:b.test');
    assert.equal(t.calls.length, 4);
  });

  test('concurrent lookups of one user share one request', async () => {
    const t = fakeTransport(() => ({ displayname: 'Bob' }));
    const profiles = new RemoteProfiles({ transport: t, now: () => 0, logger });
    const results = await Promise.all([profiles.lookup('@bob:b.test'), profiles.lookup('@bob:b.test')]);
    assert.deepEqual(results[0], results[1]);
    assert.equal(t.calls.length, 1);
  });

  test('remote 404 and 403 are reported (and remembered); transport failures are not remembered', async () => {
    const errors: Record<string, Error> = {
      '@gone:b.test': new FederationError(404, 'M_NOT_FOUND', 'no such user', 'http'),
      '@shy:b.test': new FederationError(403, 'M_FORBIDDEN', 'not telling', 'http'),
      '@x:down.test': new FederationError(0, 'M_UNKNOWN', 'ECONNREFUSED', 'network'),
      '@x:slow.test': new FederationError(0, 'M_UNKNOWN', 'request timed out', 'timeout'),
      '@x:broken.test': new FederationError(500, 'M_UNKNOWN', 'oops', 'http'),
    };
    const t = fakeTransport((userId) => errors[userId] ?? new Error('unexpected'));
    const profiles = new RemoteProfiles({ transport: t, now: () => 0, logger });
    const reasons = [];
    for (const u of Object.keys(errors)) {
      const r = await profiles.lookup(u);
      assert.equal(r.ok, false);
      if (!r.ok) reasons.push(r.reason);
    }
    assert.deepEqual(reasons, ['not_found', 'forbidden', 'unreachable', 'timeout', 'unreachable']);
    for (const u of Object.keys(errors)) await profiles.lookup(u);
    // 404 and 403 came from the cache; the three failures were asked again.
    assert.equal(t.calls.length, 5 + 3);
  });

  test('an answer that is not a JSON object counts as a failure', async () => {
    const t = { request: async <T>() => ['not', 'a', 'profile'] as T };
    const profiles = new RemoteProfiles({ transport: t, now: () => 0, logger });
    const r = await profiles.lookup('@bob:b.test');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'unreachable');
  });
});
