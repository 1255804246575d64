/**
 * The raw HTTP edge: request-line and header abuse Node's parser or the router sees before any
 * endpoint does. Every answer is a Matrix JSON error (or a closed connection), never a crash, and a
 * client that never finishes its headers is cut off after `headers_timeout_ms`.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { api, assertError, registerUser } from './harness/client.js';
import { parseRawResponse, rawRequest } from './harness/media.js';
import { suiteServer } from './harness/suite.js';

describe('raw HTTP edge', () => {
  const server = suiteServer({ config: { headers_timeout_ms: 1500, body_idle_timeout_ms: 1000, max_request_body_bytes: 4096 } });

  it('unknown path: 404 M_UNRECOGNIZED; wrong method: 405 M_UNRECOGNIZED', async () => {
    assertError(await api(server, 'GET', '/_matrix/client/v3/no_such_thing'), 404, 'M_UNRECOGNIZED');
    assertError(await api(server, 'GET', '/'), 404, 'M_UNRECOGNIZED');
    assertError(await api(server, 'PATCH', '/_matrix/client/v3/createRoom'), 405, 'M_UNRECOGNIZED');
    assertError(await api(server, 'DELETE', '/_matrix/client/v3/login'), 405, 'M_UNRECOGNIZED');
  });

  it('a malformed WebSocket handshake gets a JSON error, not plain text', async () => {
    const ws = '/_matrix/client/unstable/org.comet.ws';
    const good = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';
    const cases: Array<[string, number, string]> = [
      [`GET ${ws} HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13`, 400, 'M_INVALID_PARAM'],
      [`GET ${ws} HTTP/1.1\r\n${good}\r\nSec-WebSocket-Version: 99`, 426, 'M_INVALID_PARAM'],
      [`POST ${ws} HTTP/1.1\r\n${good}\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0`, 405, 'M_UNRECOGNIZED'],
      [`GET /_matrix/client/v3/sync HTTP/1.1\r\n${good}\r\nSec-WebSocket-Version: 13`, 404, 'M_UNRECOGNIZED'],
    ];
    for (const [head, status, errcode] of cases) {
      const raw = await rawRequest(server, head);
      const parsed = parseRawResponse(raw);
      assert.equal(parsed.status, status, raw.slice(0, 200));
      assert.equal(parsed.json?.errcode, errcode, raw);
      if (status === 426) assert.match(raw, /\r\nSec-WebSocket-Version: 13, 8\r\n/i);
    }
  });

  it('a very long URL is refused with a JSON error', async () => {
    const raw = await rawRequest(server, `GET /_matrix/client/v3/profile/${'a'.repeat(100_000)} HTTP/1.1\r\nConnection: close`);
    const { status, json } = parseRawResponse(raw);
    assert.equal(status, 431, raw.slice(0, 200));
    assert.equal(typeof json?.errcode, 'string', raw.slice(0, 300));
  });

  it('duplicate or conflicting Content-Length, and Content-Length with chunked, are refused', async () => {
    for (const head of [
      'POST /_matrix/client/v3/login HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 5',
      'POST /_matrix/client/v3/login HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2, 5',
      'POST /_matrix/client/v3/login HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: -1',
      'POST /_matrix/client/v3/login HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked',
      'GARBAGE\r\nX: y',
      'GET /_matrix/client/versions HTTP/1.1\r\nBad Header Without Colon',
    ]) {
      const { status, json } = parseRawResponse(await rawRequest(server, head, '{}', true));
      assert.equal(status, 400, head);
      assert.equal(typeof json?.errcode, 'string', head);
    }
  });

  it('a chunked body larger than the limit is refused with 413 M_TOO_LARGE', async () => {
    const chunk = `{"a":"${'x'.repeat(3000)}`;
    const body = `${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(3) + '0\r\n\r\n';
    const raw = await rawRequest(server, 'POST /_matrix/client/v3/login HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked', body, true);
    const { status, json } = parseRawResponse(raw);
    assert.equal(status, 413, raw.slice(0, 200));
    assert.equal(json?.errcode, 'M_TOO_LARGE');
  });

  it('a body that stops arriving is answered 408 and its connection closed (JSON and upload)', { timeout: 20_000 }, async () => {
    const user = await registerUser(server);
    for (const [path, type] of [
      ['/_matrix/client/v3/login', 'application/json'],
      ['/_matrix/media/v3/upload', 'application/octet-stream'],
    ]) {
      // Half the announced body, then silence with the socket left open.
      const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${user.accessToken}\r\nContent-Type: ${type}\r\nContent-Length: 100\r\n\r\n`;
      const raw = await new Promise<string>((resolve, reject) => {
        const sock = connect(server.port, '127.0.0.1', () => sock.write(`${head}{"type":"m.login.password","`));
        let out = '';
        sock.setEncoding('utf8').on('data', (d: string) => {
          out += d;
        });
        sock.on('close', () => resolve(out));
        sock.on('error', reject);
      });
      const { status, json } = parseRawResponse(raw);
      assert.equal(status, 408, `${path}: ${raw.slice(0, 300)}`);
      assert.equal(json?.errcode, 'M_UNKNOWN');
    }
    assert.equal((await api(server, 'GET', '/_matrix/client/versions')).status, 200);
  });

  it('a client that never finishes its headers is disconnected', { timeout: 20_000 }, async () => {
    const sock = connect(server.port, '127.0.0.1');
    let received = '';
    sock.setEncoding('utf8').on('data', (d: string) => {
      received += d;
    });
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write('GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n');
    // Keep trickling header lines, never the blank line that ends them.
    const drip = setInterval(() => {
      if (!sock.destroyed) sock.write('X-Slow: 1\r\n');
    }, 300);
    let giveUp: NodeJS.Timeout | undefined;
    const closed = await new Promise<boolean>((resolve) => {
      sock.once('close', () => resolve(true));
      giveUp = setTimeout(() => resolve(false), 15_000);
    });
    clearTimeout(giveUp);
    clearInterval(drip);
    sock.destroy();
    assert.ok(closed, 'the slow client was never disconnected');
    assert.match(received, /^HTTP\/1\.1 408 /);
    assert.match(received, /"errcode":"M_UNKNOWN"/);
    // The server is still serving.
    assert.equal((await api(server, 'GET', '/_matrix/client/versions')).status, 200);
  });
});
