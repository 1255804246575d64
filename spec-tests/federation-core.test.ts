/**
 * Federation plumbing between real server processes over verified TLS (test CA): keys, notary,
 * X-Matrix request authentication and transactions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signRequest } from '../federation/auth/x-matrix.js';
import { isSignedBy, parseKeyResponse } from '../federation/keys/key-response.js';
import type { JsonObject } from '../src/core/json.js';
import { generateSigningKey } from '../src/core/signing.js';
import { type Federation, fedRequest, startFederation } from './harness/federation.js';
import { waitForLogs } from './harness/server.js';

describe('federation core (two servers)', () => {
  let fed: Federation;

  before(async () => {
    fed = await startFederation(['hs1.test', 'hs2.test'], {
      config: (name) => ({
        // down.test: a name that resolves to a closed loopback port (no DNS query ever leaves the machine).
        federation: { resolve: { 'down.test': '127.0.0.1:1' }, ...(name === 'hs2.test' ? { well_known_server: 'fed.hs2.test:443' } : {}) },
      }),
    });
  });
  after(async () => {
    await fed?.close();
  });

  test('each server publishes self-signed keys over TLS; version and well-known', async () => {
    for (const s of fed.servers) {
      const res = await fedRequest(fed, s, 'GET', '/_matrix/key/v2/server');
      assert.equal(res.status, 200);
      const parsed = parseKeyResponse(res.body, s.name);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      assert.ok(parsed.value.validUntilTs > Date.now());
      assert.equal(parsed.value.keys[0].keyId, s.signingKey().keyId);
    }
    const v = await fedRequest(fed, fed.get('hs1.test'), 'GET', '/_matrix/federation/v1/version');
    assert.deepEqual(v.body, { server: { name: 'Comet', version: '0.1.0' } });
    assert.equal((await fedRequest(fed, fed.get('hs1.test'), 'GET', '/.well-known/matrix/server')).status, 404);
    const wk = await fedRequest(fed, fed.get('hs2.test'), 'GET', '/.well-known/matrix/server');
    assert.deepEqual(wk.body, { 'm.server': 'fed.hs2.test:443' });
  });

  test('notary: hs2 serves hs1’s keys (fetched over federation), signed by both', async () => {
    const hs1Keys = parseKeyResponse((await fedRequest(fed, fed.get('hs1.test'), 'GET', '/_matrix/key/v2/server')).body, 'hs1.test');
    const hs2Keys = parseKeyResponse((await fedRequest(fed, fed.get('hs2.test'), 'GET', '/_matrix/key/v2/server')).body, 'hs2.test');
    assert.ok(hs1Keys.ok && hs2Keys.ok);
    const post = await fedRequest(fed, fed.get('hs2.test'), 'POST', '/_matrix/key/v2/query', {
      body: { server_keys: { 'hs1.test': {}, 'down.test': {} } },
    });
    assert.equal(post.status, 200);
    const list = post.body.server_keys as JsonObject[];
    assert.equal(list.length, 1);
    assert.ok(parseKeyResponse(list[0], 'hs1.test').ok);
    assert.ok(isSignedBy(list[0], 'hs2.test', hs2Keys.value.keys));
    const get = await fedRequest(fed, fed.get('hs2.test'), 'GET', '/_matrix/key/v2/query/hs1.test');
    assert.equal((get.body.server_keys as JsonObject[]).length, 1);
  });

  test('X-Matrix: a correctly signed transaction is accepted; wrong destination, bad signature, unknown key are 401', async () => {
    const hs1 = fed.get('hs1.test');
    const hs2 = fed.get('hs2.test');
    const key = hs1.signingKey();
    const body = { origin: 'hs1.test', origin_server_ts: Date.now(), pdus: [], edus: [{ edu_type: 'm.unknown', content: {} }] };
    const path = '/_matrix/federation/v1/send/t1';
    const sign = (over: Record<string, unknown> = {}, k = key) =>
      signRequest({ method: 'PUT', uri: path, origin: 'hs1.test', destination: 'hs2.test', content: body, ...over }, k);

    const ok = await fedRequest(fed, hs2, 'PUT', path, { body, authorization: sign() });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { pdus: {} });

    const cases: Array<[string, string | undefined]> = [
      ['missing', undefined],
      ['wrong destination', sign({ destination: 'hs3.test' })],
      ['bad signature', sign({ content: { ...body, pdus: [{}] } })],
      ['unknown key', sign({}, generateSigningKey('forged'))],
    ];
    for (const [name, authorization] of cases) {
      const res = await fedRequest(fed, hs2, 'PUT', path, { body, authorization });
      assert.equal(res.status, 401, name);
      assert.equal(res.body.errcode, 'M_UNAUTHORIZED', name);
    }
    const elsewhere = await waitForLogs(hs2.server, (l) => l.msg === 'X-Matrix request for another destination' && l.destination === 'hs3.test');
    assert.ok(elsewhere.length > 0);
    assert.ok((await waitForLogs(hs2.server, (l) => l.msg === 'X-Matrix request signed with an unknown key')).length > 0);
  });

  test('transactions are idempotent per origin and limited to 50 PDUs', async () => {
    const hs1 = fed.get('hs1.test');
    const hs2 = fed.get('hs2.test');
    const key = hs1.signingKey();
    const put = (txnId: string, body: JsonObject) => {
      const path = `/_matrix/federation/v1/send/${txnId}`;
      return fedRequest(fed, hs2, 'PUT', path, {
        body,
        authorization: signRequest({ method: 'PUT', uri: path, origin: 'hs1.test', destination: 'hs2.test', content: body }, key),
      });
    };
    const txn = { origin: 'hs1.test', origin_server_ts: 1, pdus: [{ room_id: '!nowhere:hs1.test', type: 'm.room.message' }], edus: [] };
    const a = await put('idem', txn);
    const b = await put('idem', txn);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, b.body);
    const tooMany = await put('big', { origin: 'hs1.test', origin_server_ts: 1, pdus: Array.from({ length: 51 }, () => ({})), edus: [] });
    assert.equal(tooMany.status, 400);
  });

  test('a restarted server keeps its key and is reachable at the same place', async () => {
    const before = fed.get('hs1.test').signingKey().keyId;
    await fed.stop('hs1.test');
    const hs1 = await fed.restart('hs1.test');
    const res = await fedRequest(fed, hs1, 'GET', '/_matrix/key/v2/server');
    const parsed = parseKeyResponse(res.body, 'hs1.test');
    assert.ok(parsed.ok);
    assert.equal(parsed.value.keys[0].keyId, before);
  });
});
