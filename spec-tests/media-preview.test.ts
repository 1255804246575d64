/**
 * preview_url over real HTTP. Only loopback is used: by default it is refused; a test-only allow-list
 * entry for 127.0.0.1 lets a preview of a local HTTP server through.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { get, mxcPath } from './harness/media.js';
import { startServer, type TestServer } from './harness/server.js';

describe('preview_url', () => {
  let site: Server;
  let sitePort: number;
  let png: Buffer;
  let disabled: TestServer;
  let guarded: TestServer;
  let open: TestServer;
  const users = new Map<TestServer, TestUser>();

  before(async () => {
    png = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#123456' } }).png().toBuffer();
    site = createServer((req, res) => {
      if (req.url === '/article') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        return res.end(`<!doctype html><html><head><title>Fallback</title>
          <meta property="og:title" content="Comet &amp; friends">
          <meta property="og:description" content="A preview test page">
          <meta property="og:image" content="http://127.0.0.1:${sitePort}/image.png">
          </head><body>hello</body></html>`);
      }
      if (req.url === '/plain') {
        res.setHeader('content-type', 'text/html');
        return res.end('<html><head><title>Just a title</title></head></html>');
      }
      if (req.url === '/image.png') {
        res.setHeader('content-type', 'image/png');
        return res.end(png);
      }
      if (req.url === '/to-private') {
        res.writeHead(302, { location: 'http://10.0.0.1/secret' });
        return res.end();
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    sitePort = (site.address() as AddressInfo).port;
    [disabled, guarded, open] = await Promise.all([
      startServer(),
      startServer({ config: { media: { url_preview: { enabled: true } } } }),
      startServer({ config: { media: { url_preview: { enabled: true, ip_range_allowlist: ['127.0.0.1/32'] } } } }),
    ]);
    for (const s of [disabled, guarded, open]) users.set(s, await registerUser(s));
  });
  after(async () => {
    for (const s of [disabled, guarded, open]) {
      await s.stop();
      s.cleanup();
    }
    site.closeAllConnections();
    site.close();
  });

  const preview = (s: TestServer, url: string, path = '/_matrix/client/v1/media/preview_url') =>
    api(s, 'GET', path, { token: users.get(s)!.accessToken, query: { url } });

  test('disabled by default: 403 M_FORBIDDEN', async () => {
    assertError(await preview(disabled, `http://127.0.0.1:${sitePort}/article`), 403, 'M_FORBIDDEN');
  });

  test('loopback and other internal addresses are refused by default, also via DNS names', async () => {
    for (const url of [
      `http://127.0.0.1:${sitePort}/article`,
      `http://localhost:${sitePort}/article`,
      `http://[::1]:${sitePort}/article`,
      `http://[::ffff:127.0.0.1]:${sitePort}/article`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
    ]) {
      assertError(await preview(guarded, url), 403, 'M_FORBIDDEN');
    }
    assertError(await preview(guarded, 'file:///etc/passwd'), 403, 'M_FORBIDDEN');
    assertError(await api(guarded, 'GET', '/_matrix/client/v1/media/preview_url', { token: users.get(guarded)!.accessToken }), 400, 'M_MISSING_PARAM');
    assertError(await api(guarded, 'GET', '/_matrix/client/v1/media/preview_url', { query: { url: 'http://x/' } }), 401, 'M_MISSING_TOKEN');
  });

  test('with 127.0.0.1 allow-listed, a local page previews (v1 and v3)', async () => {
    for (const path of ['/_matrix/client/v1/media/preview_url', '/_matrix/media/v3/preview_url']) {
      const res = await preview(open, `http://127.0.0.1:${sitePort}/article`, path);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      // og:image is only ever an mxc:// URI, so the page's remote image URL is not passed on.
      assert.deepEqual(res.body, { 'og:title': 'Comet & friends', 'og:description': 'A preview test page' });
    }
    const plain = await preview(open, `http://127.0.0.1:${sitePort}/plain`);
    assert.deepEqual(plain.body, { 'og:title': 'Just a title' });
  });

  test('an image URL is stored and described with an mxc:// og:image', async () => {
    const res = await preview(open, `http://127.0.0.1:${sitePort}/image.png`);
    assert.equal(res.status, 200);
    assert.match(res.body['og:image'], /^mxc:\/\/localhost\//);
    assert.equal(res.body['og:image:type'], 'image/png');
    assert.equal(res.body['og:image:width'], 60);
    assert.equal(res.body['og:image:height'], 40);
    assert.equal(res.body['matrix:image:size'], png.length);
    const img = await get(open, `/_matrix/client/v1/media/download/${mxcPath(res.body['og:image'])}`, users.get(open)!.accessToken);
    assert.ok(img.bytes.equals(png));
  });

  test('a redirect to a refused address is refused; other addresses stay refused', async () => {
    assertError(await preview(open, `http://127.0.0.1:${sitePort}/to-private`), 403, 'M_FORBIDDEN');
    assertError(await preview(open, `http://127.0.0.2:${sitePort}/article`), 403, 'M_FORBIDDEN');
    assertError(await preview(open, `http://127.0.0.1:${sitePort}/missing`), 502, 'M_UNKNOWN');
  });
});
