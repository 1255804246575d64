/** Server discovery endpoints and the generic HTTP behaviour every endpoint shares. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, assertError } from './harness/client.js';
import { waitForLogs } from './harness/server.js';
import { suiteServer } from './harness/suite.js';

describe('server basics', () => {
  const server = suiteServer({ config: { public_baseurl: 'https://matrix.example.test/' } });

  test('GET /versions lists spec versions v1.1 to v1.16', async () => {
    const res = await api(server, 'GET', '/_matrix/client/versions');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.ok(res.body.versions.includes('v1.1'));
    assert.ok(res.body.versions.includes('v1.16'));
    assert.equal(typeof res.body.unstable_features, 'object');
  });

  test('GET /.well-known/matrix/client points at public_baseurl', async () => {
    const res = await api(server, 'GET', '/.well-known/matrix/client');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { 'm.homeserver': { base_url: 'https://matrix.example.test/' } });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  test('every response carries the CORS headers; OPTIONS answers without running the endpoint', async () => {
    const res = await api(server, 'OPTIONS', '/_matrix/client/v3/capabilities');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /PUT/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const err = await api(server, 'GET', '/_matrix/client/v3/capabilities');
    assertError(err, 401, 'M_MISSING_TOKEN');
    assert.equal(err.headers.get('access-control-allow-origin'), '*');
  });

  test('unknown endpoint: 404 M_UNRECOGNIZED', async () => {
    assertError(await api(server, 'GET', '/_matrix/client/v3/no/such/thing'), 404, 'M_UNRECOGNIZED');
    assertError(await api(server, 'POST', '/_matrix/client/v3/no/such/thing', { body: {} }), 404, 'M_UNRECOGNIZED');
  });

  test('known endpoint, wrong method: 405 M_UNRECOGNIZED with Allow', async () => {
    const res = await api(server, 'DELETE', '/_matrix/client/versions');
    assertError(res, 405, 'M_UNRECOGNIZED');
    assert.match(res.headers.get('allow') ?? '', /GET/);
  });

  test('capabilities need a token; unknown tokens are rejected', async () => {
    assertError(await api(server, 'GET', '/_matrix/client/v3/capabilities'), 401, 'M_MISSING_TOKEN');
    assertError(await api(server, 'GET', '/_matrix/client/v3/capabilities', { token: 'nope' }), 401, 'M_UNKNOWN_TOKEN');
    const viaQuery = await api(server, 'GET', '/_matrix/client/v3/capabilities', { query: { access_token: 'nope' } });
    assertError(viaQuery, 401, 'M_UNKNOWN_TOKEN');
    const malformed = await api(server, 'GET', '/_matrix/client/v3/capabilities', {
      headers: { authorization: 'Basic abc' },
    });
    assertError(malformed, 401, 'M_UNKNOWN_TOKEN');
  });

  test('one access-log line per request, with id, method, path without query, status and duration', async () => {
    const res = await api(server, 'GET', '/_matrix/client/v3/capabilities', { query: { access_token: 'secret-token-value' } });
    const reqId = res.headers.get('x-request-id');
    assert.ok(reqId);
    const lines = await waitForLogs(server, (l) => l.msg === 'request' && l.reqId === reqId);
    assert.equal(lines.length, 1);
    const line = lines[0];
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/_matrix/client/v3/capabilities');
    assert.equal(line.status, 401);
    assert.equal(typeof line.ms, 'number');
    assert.equal(typeof line.reqId, 'string');
    assert.ok(!server.output.some((l) => l.includes('secret-token-value')), 'token leaked into the log');
  });
});
