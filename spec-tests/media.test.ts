/** Media repository: uploads, downloads, reserved uploads, limits and bad input, over real HTTP. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { eventually } from './harness/eventually.js';
import { get, mxcPath, parseRawResponse, rawRequest, upload } from './harness/media.js';
import { startServer, type TestServer } from './harness/server.js';

const MAX_UPLOAD = 25 * 1024 * 1024;
const CSP =
  "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';";

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('media repository', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mediaDir: string;

  before(async () => {
    server = await startServer({
      // other.example "lives" on a closed loopback port: remote fetches fail fast, without DNS.
      config: { media: { max_upload_bytes: MAX_UPLOAD }, federation: { resolve: { 'other.example': '127.0.0.1:1' } } },
    });
    mediaDir = join(server.dir, 'data', 'media');
    alice = await registerUser(server);
    bob = await registerUser(server);
  });
  after(async () => {
    await server.stop();
    server.cleanup();
  });

  test('config advertises the upload limit (v1 and v3)', async () => {
    for (const path of ['/_matrix/client/v1/media/config', '/_matrix/media/v3/config']) {
      const res = await api(server, 'GET', path, { token: alice.accessToken });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { 'm.upload.size': MAX_UPLOAD });
    }
    assertError(await api(server, 'GET', '/_matrix/client/v1/media/config'), 401, 'M_MISSING_TOKEN');
  });

  test('a 20 MB upload downloads byte for byte, with the security headers, and is stored once', async () => {
    const data = randomBytes(20 * 1024 * 1024);
    const sha = createHash('sha256').update(data).digest('hex');
    const up = await upload(server, alice.accessToken, data, 'application/octet-stream', 'big.bin');
    assert.equal(up.status, 200, JSON.stringify(up.json));
    assert.match(up.json.content_uri, /^mxc:\/\/localhost\/[A-Za-z0-9_-]+$/);

    const down = await get(server, `/_matrix/client/v1/media/download/${mxcPath(up.json.content_uri)}`, bob.accessToken);
    assert.equal(down.status, 200);
    assert.equal(down.bytes.length, data.length);
    assert.ok(down.bytes.equals(data));
    assert.equal(down.headers.get('content-type'), 'application/octet-stream');
    assert.equal(down.headers.get('content-length'), String(data.length));
    assert.equal(down.headers.get('content-disposition'), 'attachment; filename="big.bin"');
    assert.equal(down.headers.get('content-security-policy'), CSP);
    assert.equal(down.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.equal(down.headers.get('x-content-type-options'), 'nosniff');

    // Content-addressed: the blob sits at ab/cd/<sha256>; the same bytes again add no file.
    const blobPath = join(mediaDir, sha.slice(0, 2), sha.slice(2, 4), sha);
    assert.ok(existsSync(blobPath));
    const before = filesUnder(mediaDir).length;
    const again = await upload(server, bob.accessToken, data, 'application/zip', 'copy.zip');
    assert.equal(again.status, 200);
    assert.notEqual(again.json.content_uri, up.json.content_uri);
    assert.equal(filesUnder(mediaDir).length, before);
    assert.equal(filesUnder(mediaDir).filter((f) => f.endsWith(sha)).length, 1);
    // Each media ID keeps its own metadata.
    const copy = await get(server, `/_matrix/client/v1/media/download/${mxcPath(again.json.content_uri)}`, alice.accessToken);
    assert.equal(copy.headers.get('content-type'), 'application/zip');
    assert.equal(copy.headers.get('content-disposition'), 'attachment; filename="copy.zip"');
    // No temp files are left behind.
    assert.deepEqual(filesUnder(join(mediaDir, 'tmp')), []);
  });

  test('inline disposition only for safe types; filename override; legacy endpoint; no filename when none given', async () => {
    const png = await upload(server, alice.accessToken, Buffer.from('not really a png'), 'image/png');
    const html = await upload(server, alice.accessToken, Buffer.from('<script>alert(1)</script>'), 'text/html', 'x.html');
    const p = mxcPath(png.json.content_uri);
    const h = mxcPath(html.json.content_uri);

    const a = await get(server, `/_matrix/client/v1/media/download/${p}`, alice.accessToken);
    assert.equal(a.headers.get('content-type'), 'image/png');
    assert.equal(a.headers.get('content-disposition'), 'inline');
    const b = await get(server, `/_matrix/client/v1/media/download/${h}`, alice.accessToken);
    assert.equal(b.headers.get('content-type'), 'text/html');
    assert.equal(b.headers.get('content-disposition'), 'attachment; filename="x.html"');

    const named = await get(server, `/_matrix/client/v1/media/download/${p}/holiday%20photo.png`, alice.accessToken);
    assert.equal(named.headers.get('content-disposition'), 'inline; filename="holiday photo.png"');
    const unicode = await get(server, `/_matrix/client/v1/media/download/${p}/${encodeURIComponent('été "1".png')}`, alice.accessToken);
    assert.equal(unicode.headers.get('content-disposition'), "inline; filename*=utf-8''%C3%A9t%C3%A9%20%221%22.png");

    const legacy = await get(server, `/_matrix/media/v3/download/${p}`);
    assert.equal(legacy.status, 200);
    assert.equal(legacy.bytes.toString(), 'not really a png');
    assert.equal(legacy.headers.get('content-security-policy'), CSP);
    const legacyNamed = await get(server, `/_matrix/media/v3/download/${p}/a.png`);
    assert.equal(legacyNamed.headers.get('content-disposition'), 'inline; filename="a.png"');

    // The authenticated endpoints need a token.
    const anon = await get(server, `/_matrix/client/v1/media/download/${p}`);
    assert.equal(anon.status, 401);
    assert.equal(anon.json.errcode, 'M_MISSING_TOKEN');
  });

  test('no Content-Type is stored as application/octet-stream', async () => {
    const res = await fetch(new URL('/_matrix/media/v3/upload', server.baseUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body: new Blob([Buffer.from('bytes')]),
    });
    const { content_uri } = (await res.json()) as { content_uri: string };
    const down = await get(server, `/_matrix/client/v1/media/download/${mxcPath(content_uri)}`, alice.accessToken);
    assert.equal(down.headers.get('content-type'), 'application/octet-stream');
  });

  test('unknown media, unreachable remote media and uploads without a token', async () => {
    const unknown = await get(server, '/_matrix/client/v1/media/download/localhost/doesNotExist', alice.accessToken);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.errcode, 'M_NOT_FOUND');
    const remote = await get(server, '/_matrix/client/v1/media/download/other.example/abc', alice.accessToken);
    assert.equal(remote.status, 502);
    assert.equal(remote.json.errcode, 'M_UNKNOWN');
    const legacyNoRemote = await get(server, '/_matrix/media/v3/download/other.example/abc?allow_remote=false');
    assert.equal(legacyNoRemote.status, 404);
    const noToken = await fetch(new URL('/_matrix/media/v3/upload', server.baseUrl), { method: 'POST', body: 'x' });
    assert.equal(noToken.status, 401);
  });

  test('oversized uploads are 413 M_TOO_LARGE, announced or streamed, and leave nothing behind', async () => {
    // Announced: refused from the headers alone, before any of the body is sent (a client still
    // writing a body the server has refused would race the closed connection).
    const announced = [
      'POST /_matrix/media/v3/upload HTTP/1.1',
      `Authorization: Bearer ${alice.accessToken}`,
      'Content-Type: application/octet-stream',
      `Content-Length: ${MAX_UPLOAD + 1}`,
    ].join('\r\n');
    const big = parseRawResponse(await rawRequest(server, announced));
    assert.equal(big.status, 413);
    assert.equal(big.json?.errcode, 'M_TOO_LARGE');

    // Chunked (no Content-Length): the server counts while streaming to disk.
    const head = [
      'POST /_matrix/media/v3/upload HTTP/1.1',
      `Authorization: Bearer ${alice.accessToken}`,
      'Content-Type: application/octet-stream',
      'Transfer-Encoding: chunked',
    ].join('\r\n');
    const chunk = 'x'.repeat(1024 * 1024);
    const chunks = Array.from({ length: 26 }, () => `${(chunk.length).toString(16)}\r\n${chunk}\r\n`).join('');
    const { status, json } = parseRawResponse(await rawRequest(server, head, `${chunks}0\r\n\r\n`));
    assert.equal(status, 413);
    assert.equal(json?.errcode, 'M_TOO_LARGE');
    assert.deepEqual(filesUnder(join(mediaDir, 'tmp')), []);
    assert.equal((await api(server, 'GET', '/_matrix/client/versions')).status, 200);
  });

  test('a body shorter than its Content-Length is refused and not stored', async () => {
    const head = [
      'POST /_matrix/media/v3/upload HTTP/1.1',
      `Authorization: Bearer ${alice.accessToken}`,
      'Content-Type: text/plain',
      'Content-Length: 1000',
    ].join('\r\n');
    const { status, json } = parseRawResponse(await rawRequest(server, head, 'only ten b', true));
    assert.equal(status, 400);
    assert.equal(json?.errcode, 'M_UNKNOWN');
    // Not stored: no blob of the partial body, no temp file left (thumbnails of earlier uploads may
    // still be appearing in the background, so the blob count itself proves nothing).
    const partialSha = createHash('sha256').update('only ten b').digest('hex');
    assert.deepEqual(filesUnder(mediaDir).filter((f) => f.endsWith(partialSha)), []);
    // Node's parser answers a truncated body itself, so the upload's clean-up may finish just after.
    await eventually(() => filesUnder(join(mediaDir, 'tmp')).length === 0, 'the partial upload is removed');

    // A non-numeric Content-Length never reaches the application (Node's parser answers 400).
    const bad = await rawRequest(server, `${head.replace('Content-Length: 1000', 'Content-Length: ten')}`, 'x', true);
    assert.equal(parseRawResponse(bad).status, 400);
    assert.equal((await api(server, 'GET', '/_matrix/client/versions')).status, 200);
  });

  test('path traversal in media IDs, server names and file names is refused or inert', async () => {
    for (const path of [
      '/_matrix/client/v1/media/download/localhost/..%2F..%2F..%2Fetc%2Fpasswd',
      '/_matrix/client/v1/media/download/..%2F..%2Fetc/passwd',
      '/_matrix/client/v1/media/thumbnail/localhost/..%2Fsigning.key?width=32&height=32',
      '/_matrix/media/v3/download/localhost/..%2F..%2Fcomet.yaml',
      '/_matrix/client/v1/media/download/localhost/a.b',
    ]) {
      const raw = await rawRequest(server, `GET ${path} HTTP/1.1\r\nAuthorization: Bearer ${alice.accessToken}\r\nConnection: close`);
      const { status, json } = parseRawResponse(raw);
      assert.equal(status, 400, `${path}: ${raw}`);
      assert.equal(json?.errcode, 'M_INVALID_PARAM');
    }
    // Unencoded `..` segments are resolved by no one: they simply match no endpoint.
    const raw = await rawRequest(
      server,
      `GET /_matrix/client/v1/media/download/localhost/../../../etc/passwd HTTP/1.1\r\nAuthorization: Bearer ${alice.accessToken}\r\nConnection: close`,
    );
    assert.ok([400, 404].includes(parseRawResponse(raw).status));
    assert.doesNotMatch(raw, /root:/);

    // A traversal file name is just metadata: the bytes go to the content-addressed store.
    const up = await upload(server, alice.accessToken, Buffer.from('evil'), 'text/plain', '../../evil.txt');
    assert.equal(up.status, 200);
    assert.ok(!existsSync(join(server.dir, 'evil.txt')));
    assert.ok(!existsSync(join(server.dir, 'data', 'evil.txt')));
    const down = await get(server, `/_matrix/client/v1/media/download/${mxcPath(up.json.content_uri)}`, alice.accessToken);
    assert.equal(down.headers.get('content-disposition'), 'inline; filename="../../evil.txt"');
    const override = await get(
      server,
      `/_matrix/client/v1/media/download/${mxcPath(up.json.content_uri)}/..%2F..%2Fpasswd`,
      alice.accessToken,
    );
    assert.equal(override.status, 200);
    assert.equal(override.bytes.toString(), 'evil');
    assert.equal(override.headers.get('content-disposition'), 'inline; filename="../../passwd"');
    // A header-injection attempt in the file name cannot break the header.
    const crlf = await get(
      server,
      `/_matrix/client/v1/media/download/${mxcPath(up.json.content_uri)}/a%0D%0ASet-Cookie%3A%20x`,
      alice.accessToken,
    );
    assert.equal(crlf.status, 200);
    assert.equal(crlf.headers.get('set-cookie'), null);
    assert.equal(crlf.headers.get('content-disposition'), "inline; filename*=utf-8''a%0D%0ASet-Cookie%3A%20x");
  });

  test('create + PUT upload: waiting downloads, 504 M_NOT_YET_UPLOADED, 409, 403, 404', async () => {
    const created = await api(server, 'POST', '/_matrix/media/v1/create', { token: alice.accessToken });
    assert.equal(created.status, 200);
    assert.match(created.body.content_uri, /^mxc:\/\/localhost\//);
    assert.equal(typeof created.body.unused_expires_at, 'number');
    const path = mxcPath(created.body.content_uri);

    const early = await get(server, `/_matrix/client/v1/media/download/${path}?timeout_ms=0`, bob.accessToken);
    assert.equal(early.status, 504);
    assert.equal(early.json.errcode, 'M_NOT_YET_UPLOADED');

    // Someone else may not fill the reservation.
    const stolen = await fetch(new URL(`/_matrix/media/v3/upload/${path}`, server.baseUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${bob.accessToken}`, 'content-type': 'text/plain' },
      body: 'nope',
    });
    assert.equal(stolen.status, 403);
    assert.equal(((await stolen.json()) as { errcode: string }).errcode, 'M_FORBIDDEN');

    // A download started before the upload is answered when the content arrives.
    const waiting = get(server, `/_matrix/client/v1/media/download/${path}?timeout_ms=10000`, bob.accessToken);
    const put = await fetch(new URL(`/_matrix/media/v3/upload/${path}?filename=late.txt`, server.baseUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'text/plain' },
      body: 'arrived',
    });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), {});
    const done = await waiting;
    assert.equal(done.status, 200);
    assert.equal(done.bytes.toString(), 'arrived');
    assert.equal(done.headers.get('content-disposition'), 'inline; filename="late.txt"');

    const twice = await fetch(new URL(`/_matrix/media/v3/upload/${path}`, server.baseUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body: 'again',
    });
    assert.equal(twice.status, 409);
    assert.equal(((await twice.json()) as { errcode: string }).errcode, 'M_CANNOT_OVERWRITE_MEDIA');

    const unknown = await fetch(new URL('/_matrix/media/v3/upload/localhost/neverCreated', server.baseUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.accessToken}` },
      body: 'x',
    });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { errcode: string }).errcode, 'M_NOT_FOUND');
  });

  test('too many pending reservations are 429 M_LIMIT_EXCEEDED', async () => {
    const carol = await registerUser(server);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await api(server, 'POST', '/_matrix/media/v1/create', { token: carol.accessToken })).status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
  });
});

describe('media repository: frozen unauthenticated access and upload rate limit', () => {
  let server: TestServer;
  let alice: TestUser;

  before(async () => {
    server = await startServer({
      config: { media: { freeze_unauthenticated: true }, rate_limits: { media: { per_second: 0.001, burst: 3 } } },
    });
    alice = await registerUser(server);
  });
  after(async () => {
    await server.stop();
    server.cleanup();
  });

  test('legacy download and thumbnail answer 404 M_NOT_FOUND; authenticated ones still work', async () => {
    const up = await upload(server, alice.accessToken, Buffer.from('frozen'), 'text/plain');
    const p = mxcPath(up.json.content_uri);
    for (const path of [`/_matrix/media/v3/download/${p}`, `/_matrix/media/v3/download/${p}/f.txt`, `/_matrix/media/v3/thumbnail/${p}?width=32&height=32`]) {
      const res = await get(server, path);
      assert.equal(res.status, 404, path);
      assert.equal(res.json.errcode, 'M_NOT_FOUND');
    }
    const ok = await get(server, `/_matrix/client/v1/media/download/${p}`, alice.accessToken);
    assert.equal(ok.status, 200);
    assert.equal(ok.bytes.toString(), 'frozen');
  });

  test('uploads beyond the media rate limit get 429 M_LIMIT_EXCEEDED', async () => {
    // One upload was made by the previous test; the bucket holds 3.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await upload(server, alice.accessToken, Buffer.from(`n${i}`), 'text/plain')).status);
    assert.deepEqual(statuses, [200, 200, 429]);
  });
});

describe('media repository: the freeze spares media uploaded before it', () => {
  test('legacy endpoints keep serving pre-freeze media, refuse media from after it, and a restart does not move the freeze', async () => {
    let server = await startServer();
    const dir = server.dir;
    try {
      const alice = await registerUser(server);
      const old = mxcPath((await upload(server, alice.accessToken, Buffer.from('before'), 'text/plain')).json.content_uri);
      await server.stop();
      const frozenConfig = { config: { media: { freeze_unauthenticated: true } }, dir };
      server = await startServer(frozenConfig);
      const fresh = mxcPath((await upload(server, alice.accessToken, Buffer.from('after'), 'text/plain')).json.content_uri);
      for (let run = 0; run < 2; run++) {
        const oldRes = await get(server, `/_matrix/media/v3/download/${old}`);
        assert.equal(oldRes.status, 200);
        assert.equal(oldRes.bytes.toString(), 'before');
        const freshRes = await get(server, `/_matrix/media/v3/download/${fresh}`);
        assert.equal(freshRes.status, 404);
        assert.equal(freshRes.json.errcode, 'M_NOT_FOUND');
        const authed = await get(server, `/_matrix/client/v1/media/download/${fresh}`, alice.accessToken);
        assert.equal(authed.bytes.toString(), 'after');
        // Restarted with the freeze still on: the recorded moment stands (else "after" would count as old).
        if (run === 0) {
          await server.stop();
          server = await startServer(frozenConfig);
        }
      }
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});
