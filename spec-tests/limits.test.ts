/** Rate limits and request size limits. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { api, assertError, login, registerUser, uniqueName } from './harness/client.js';
import { suiteServer } from './harness/suite.js';

describe('limits', () => {
  const server = suiteServer({
    config: {
      max_request_body_bytes: 2048,
      // Refill so slowly that no token comes back during the test.
      rate_limits: { login: { per_second: 0.001, burst: 3 }, register: { per_second: 0.001, burst: 4 } },
    },
  });

  test('login is rate limited per IP: 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After', async () => {
    for (let i = 0; i < 3; i++) assertError(await login(server, 'nobody', 'x'), 403, 'M_FORBIDDEN');
    const limited = await login(server, 'nobody', 'x');
    assertError(limited, 429, 'M_LIMIT_EXCEEDED');
    assert.equal(typeof limited.body.retry_after_ms, 'number');
    assert.ok(limited.body.retry_after_ms > 0);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // Other endpoints are unaffected.
    assert.equal((await api(server, 'GET', '/_matrix/client/versions')).status, 200);
  });

  test('registration is rate limited too (each UIA round trip counts)', async () => {
    await registerUser(server); // one request
    const name = uniqueName();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await api(server, 'POST', '/_matrix/client/v3/register', { body: { username: name } })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429]);
  });

  test('an oversized body is 413 M_TOO_LARGE, whether announced by Content-Length or streamed', async () => {
    const big = JSON.stringify({ username: 'x'.repeat(4096) });
    assertError(await api(server, 'POST', '/_matrix/client/v3/refresh', { rawBody: big }), 413, 'M_TOO_LARGE');

    // Chunked: no Content-Length, so the server must count while reading.
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${server.baseUrl}/_matrix/client/v3/refresh`, { method: 'POST' }, (r) => {
        let body = '';
        r.setEncoding('utf8').on('data', (d) => {
          body += d;
        });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 8; i++) req.write('x'.repeat(1024));
      req.end();
    });
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body).errcode, 'M_TOO_LARGE');
    // Still serving.
    assert.equal((await api(server, 'GET', '/_matrix/client/versions')).status, 200);
  });
});
