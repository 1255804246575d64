/**
 * Media across servers: hs2's users read hs1's media (fetched over the federation media endpoint,
 * cached on hs2), and a fake origin "liar.test" (a bare HTTPS server with a certificate from the
 * test CA) answers with oversized, stalled or legacy-only responses.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { api, login, registerUser, type TestUser } from './harness/client.js';
import { fedRequest, type Federation, signedFedRequest, startFederation } from './harness/federation.js';
import { get, mxcPath, upload } from './harness/media.js';
import { waitForLogs } from './harness/server.js';

const COMET = fileURLToPath(new URL('../../bin/comet.js', import.meta.url));
const HS2_MAX_BYTES = 1024 * 1024;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** liar.test: what it was asked, and how it answers each media ID (`cdn`: where Location parts point). */
function liarHandler(requests: string[], cdn: () => { allowed: string; refused: string }) {
  return (req: { url?: string }, res: ServerResponse) => {
    const url = req.url ?? '';
    requests.push(url);
    const part = (headers: string) => `--B\r\nContent-Type: application/json\r\n\r\n{}\r\n--B\r\n${headers}\r\n\r\n`;
    if (url.startsWith('/_matrix/federation/v1/media/download/huge')) {
      // Claims 10 bytes, sends far more than hs2 accepts, chunked so no HTTP length gives it away.
      res.writeHead(200, { 'content-type': 'multipart/mixed; boundary=B' });
      res.write(part('Content-Type: application/octet-stream\r\nContent-Length: 10'));
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * HS2_MAX_BYTES) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('\r\n--B--\r\n');
      };
      res.on('error', () => undefined);
      pump();
    } else if (url.startsWith('/_matrix/federation/v1/media/download/moved')) {
      res.writeHead(200, { 'content-type': 'multipart/mixed; boundary=B' });
      res.end(`${part(`Location: ${cdn().allowed}`)}\r\n--B--\r\n`);
    } else if (url.startsWith('/_matrix/federation/v1/media/download/internal')) {
      res.writeHead(200, { 'content-type': 'multipart/mixed; boundary=B' });
      res.end(`${part(`Location: ${cdn().refused}`)}\r\n--B--\r\n`);
    } else if (url.startsWith('/_matrix/federation/v1/media/download/stall')) {
      res.writeHead(200, { 'content-type': 'multipart/mixed; boundary=B' });
      res.write(`${part('Content-Type: text/plain')}a few bytes, then nothing`);
    } else if (url.startsWith('/_matrix/federation/v1/media/download/')) {
      // A server from before Matrix 1.11: the endpoint does not exist.
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }));
    } else if (url.startsWith('/_matrix/media/v3/download/liar.test/old?')) {
      res.writeHead(200, { 'content-type': 'text/html', 'content-disposition': 'inline; filename="page.html"' });
      res.end('<script>alert(1)</script>');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errcode: 'M_NOT_FOUND', error: 'Not found' }));
    }
  };
}

describe('federation media', () => {
  let fed: Federation;
  let liar: Server;
  const liarRequests: string[] = [];
  // A plain HTTP "CDN" on 127.0.0.2, the one loopback address hs2 allows Location parts to point at.
  const cdn = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/gif', 'content-disposition': 'inline; filename="moved.gif"' });
    res.end('GIF89a from the cdn');
  });
  let cdnUrls = { allowed: '', refused: '' };
  let alice: TestUser;
  let bob: TestUser;
  let hs2Media: string;

  before(async () => {
    liar = createServer(liarHandler(liarRequests, () => cdnUrls));
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    const liarPort = (liar.address() as { port: number }).port;
    await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.2', resolve));
    const cdnPort = (cdn.address() as { port: number }).port;
    cdnUrls = { allowed: `http://127.0.0.2:${cdnPort}/blob`, refused: `http://127.0.0.1:${cdnPort}/blob` };
    fed = await startFederation(['hs1.test', 'hs2.test'], {
      config: (name) =>
        name === 'hs2.test'
          ? {
              media: {
                max_upload_bytes: HS2_MAX_BYTES,
                remote_fetch_timeout_ms: 3000,
                url_preview: { ip_range_allowlist: ['127.0.0.2/32'] },
              },
              federation: { resolve: { 'liar.test': `127.0.0.1:${liarPort}` } },
            }
          : {},
    });
    const cert = fed.ca.issue('liar.test');
    liar.setSecureContext({ cert: cert.cert, key: cert.key });
    alice = await registerUser(fed.get('hs1.test').server);
    bob = await registerUser(fed.get('hs2.test').server);
    hs2Media = join(fed.get('hs2.test').server.dir, 'data', 'media');
  });
  after(async () => {
    liar.closeAllConnections();
    liar.close();
    cdn.close();
    await fed.close();
  });

  test('without X-Matrix the federation media endpoints answer 401; unknown media is 404 M_NOT_FOUND on both sides', async () => {
    const hs1 = fed.get('hs1.test');
    for (const path of ['/_matrix/federation/v1/media/download/abc', '/_matrix/federation/v1/media/thumbnail/abc?width=32&height=32']) {
      const res = await fedRequest(fed, hs1, 'GET', path);
      assert.equal(res.status, 401, path);
      assert.equal(res.body.errcode, 'M_UNAUTHORIZED');
    }
    const signed = await signedFedRequest(fed, fed.get('hs2.test'), hs1, 'GET', '/_matrix/federation/v1/media/download/nosuchmedia');
    assert.equal(signed.status, 404);
    assert.equal(signed.body.errcode, 'M_NOT_FOUND');
    const res = await get(fed.get('hs2.test').server, '/_matrix/client/v1/media/download/hs1.test/nosuchmedia', bob.accessToken);
    assert.equal(res.status, 404);
    assert.equal(res.json.errcode, 'M_NOT_FOUND');
  });

  test('a file uploaded on hs1 is downloaded byte for byte on hs2, thumbnails of a remote image too, and served from cache once hs1 is gone', async () => {
    const hs1 = fed.get('hs1.test').server;
    const hs2 = fed.get('hs2.test').server;
    const data = randomBytes(300 * 1024);
    const up = await upload(hs1, alice.accessToken, data, 'application/pdf', 'report.pdf');
    assert.equal(up.status, 200);
    const path = `/_matrix/client/v1/media/download/${mxcPath(up.json.content_uri)}`;
    // Concurrent first requests share one transfer.
    const first = await Promise.all([1, 2, 3].map(() => get(hs2, path, bob.accessToken)));
    for (const res of first) {
      assert.equal(res.status, 200);
      assert.ok(res.bytes.equals(data));
      assert.equal(res.headers.get('content-type'), 'application/pdf');
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="report.pdf"');
    }
    const mediaId = mxcPath(up.json.content_uri).split('/')[1];
    const fetched = await waitForLogs(hs2, (l) => l.event === 'remote_media_fetched' && l.mediaId === mediaId);
    assert.equal(fetched.length, 1);

    const png = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3a7' } }).png().toBuffer();
    const img = await upload(hs1, alice.accessToken, png, 'image/png');
    const thumbPath = `/_matrix/client/v1/media/thumbnail/${mxcPath(img.json.content_uri)}?width=32&height=32&method=crop`;
    const thumb = await get(hs2, thumbPath, bob.accessToken);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/png');
    const meta = await sharp(thumb.bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [32, 32]);

    await fed.stop('hs1.test');
    const again = await get(hs2, path, bob.accessToken);
    assert.equal(again.status, 200);
    assert.ok(again.bytes.equals(data));
    const scaled = await get(hs2, `/_matrix/client/v1/media/thumbnail/${mxcPath(img.json.content_uri)}?width=100&height=100&method=scale`, bob.accessToken);
    assert.equal(scaled.status, 200);
    // The smallest pre-set size that covers the request (the spec allows larger), aspect kept.
    const scaledMeta = await sharp(scaled.bytes).metadata();
    assert.deepEqual([scaledMeta.width, scaledMeta.height], [320, 240]);
    await fed.restart('hs1.test');
  });

  test('quarantined media is 404 over federation and for the other server\'s users', async () => {
    const hs1 = fed.get('hs1.test');
    execFileSync(process.execPath, [COMET, 'register-user', '--config', hs1.server.configPath, '--user', 'boss', '--password', 'pw', '--admin']);
    const admin = (await login(hs1.server, 'boss', 'pw')).body.access_token as string;
    const up = await upload(hs1.server, alice.accessToken, Buffer.from('not for you'), 'text/plain');
    const p = mxcPath(up.json.content_uri);
    assert.equal((await api(hs1.server, 'POST', `/_synapse/admin/v1/media/quarantine/${p}`, { token: admin })).status, 200);
    const signed = await signedFedRequest(fed, fed.get('hs2.test'), hs1, 'GET', `/_matrix/federation/v1/media/download/${p.split('/')[1]}`);
    assert.equal(signed.status, 404);
    assert.equal(signed.body.errcode, 'M_NOT_FOUND');
    const res = await get(fed.get('hs2.test').server, `/_matrix/client/v1/media/download/${p}`, bob.accessToken);
    assert.equal(res.status, 404);
    assert.equal(res.json.errcode, 'M_NOT_FOUND');
  });

  test('a remote that sends more than the limit (claiming less) gets 502 M_TOO_LARGE and leaves no file behind', async () => {
    const hs2 = fed.get('hs2.test').server;
    const before = filesUnder(hs2Media).sort();
    const res = await get(hs2, '/_matrix/client/v1/media/download/liar.test/huge', bob.accessToken);
    assert.equal(res.status, 502);
    assert.equal(res.json.errcode, 'M_TOO_LARGE');
    assert.deepEqual(filesUnder(hs2Media).sort(), before);
  });

  test('a remote that stalls mid-transfer hits the deadline (504) and leaves no file behind', async () => {
    const hs2 = fed.get('hs2.test').server;
    const before = filesUnder(hs2Media).sort();
    const res = await get(hs2, '/_matrix/client/v1/media/download/liar.test/stall', bob.accessToken);
    assert.equal(res.status, 504);
    assert.deepEqual(filesUnder(hs2Media).sort(), before);
  });

  test('a remote without the federation endpoint (404 M_UNRECOGNIZED) is read on the legacy path with allow_remote=false; its HTML is not served inline', async () => {
    const res = await get(fed.get('hs2.test').server, '/_matrix/client/v1/media/download/liar.test/old', bob.accessToken);
    assert.equal(res.status, 200);
    assert.equal(res.bytes.toString(), '<script>alert(1)</script>');
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="page.html"');
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
    const legacy = liarRequests.find((u) => u.startsWith('/_matrix/media/v3/download/liar.test/old'));
    assert.ok(legacy, liarRequests.join(' '));
    assert.equal(new URL(legacy, 'https://x').searchParams.get('allow_remote'), 'false');
    assert.ok(liarRequests.some((u) => u.startsWith('/_matrix/federation/v1/media/download/old')));
  });

  test('a Location part is followed, but only to addresses the URL-preview policy allows', async () => {
    const hs2 = fed.get('hs2.test').server;
    const moved = await get(hs2, '/_matrix/client/v1/media/download/liar.test/moved', bob.accessToken);
    assert.equal(moved.status, 200);
    assert.equal(moved.bytes.toString(), 'GIF89a from the cdn');
    assert.equal(moved.headers.get('content-disposition'), 'inline; filename="moved.gif"');
    const internal = await get(hs2, '/_matrix/client/v1/media/download/liar.test/internal', bob.accessToken);
    assert.equal(internal.status, 502);
    assert.equal(internal.json.errcode, 'M_UNKNOWN');
  });
});
