/** Thumbnails of PNG, JPEG, WebP and GIF (test images generated with sharp), over real HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { api, registerUser, type TestUser } from './harness/client.js';
import { get, mxcPath, upload } from './harness/media.js';
import { startServer, type TestServer } from './harness/server.js';

/** A gradient so that encoders and resizers have something real to work on. */
function gradient(width: number, height: number, frames = 1): Buffer {
  const px = Buffer.alloc(width * height * frames * 3);
  for (let f = 0; f < frames; f++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = ((f * height + y) * width + x) * 3;
        px[i] = (x * 255) / width;
        px[i + 1] = (y * 255) / height;
        px[i + 2] = (f * 80) % 256;
      }
    }
  }
  return px;
}

function still(width: number, height: number): Sharp {
  return sharp(gradient(width, height), { raw: { width, height, channels: 3 } });
}

describe('thumbnails', () => {
  let server: TestServer;
  let alice: TestUser;
  const uris: Record<string, string> = {};

  before(async () => {
    server = await startServer();
    alice = await registerUser(server);
    const images: [string, Buffer, string][] = [
      ['png', await still(800, 600).png().toBuffer(), 'image/png'],
      ['jpeg', await still(1024, 768).jpeg().toBuffer(), 'image/jpeg'],
      ['webp', await still(640, 640).webp().toBuffer(), 'image/webp'],
      [
        'gif',
        await sharp(gradient(200, 200, 3), { raw: { width: 200, height: 600, channels: 3, pageHeight: 200 } })
          .gif()
          .toBuffer(),
        'image/gif',
      ],
      ['tiny', await still(20, 10).png().toBuffer(), 'image/png'],
    ];
    for (const [name, data, type] of images) {
      const res = await upload(server, alice.accessToken, data, type, `${name}.img`);
      assert.equal(res.status, 200);
      uris[name] = mxcPath(res.json.content_uri);
    }
  });
  after(async () => {
    await server.stop();
    server.cleanup();
  });

  async function thumb(name: string, query: string, legacy = false) {
    const path = legacy
      ? `/_matrix/media/v3/thumbnail/${uris[name]}?${query}`
      : `/_matrix/client/v1/media/thumbnail/${uris[name]}?${query}`;
    const res = await get(server, path, legacy ? undefined : alice.accessToken);
    assert.equal(res.status, 200, `${name} ${query}: ${JSON.stringify(res.json)}`);
    const meta = await sharp(res.bytes, { animated: true }).metadata();
    return { res, meta, height: meta.pageHeight ?? meta.height };
  }

  test('the common sizes, for every format, with the right types and headers', async () => {
    const expected: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/png', gif: 'image/png' };
    for (const name of ['png', 'jpeg', 'webp', 'gif']) {
      // crop: exactly the requested box.
      for (const size of [32, 96]) {
        const { res, meta, height } = await thumb(name, `width=${size}&height=${size}&method=crop`);
        assert.equal(meta.width, size, name);
        assert.equal(height, size, name);
        assert.equal(res.headers.get('content-type'), expected[name], name);
        assert.match(res.headers.get('content-disposition') ?? '', /^inline; filename="thumbnail\.(png|jpg)"$/);
        assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      }
    }
    // scale: aspect kept, fits the box, one side equal to it.
    const png = await thumb('png', 'width=320&height=240&method=scale');
    assert.deepEqual([png.meta.width, png.height], [320, 240]);
    const jpeg = await thumb('jpeg', 'width=640&height=480&method=scale');
    assert.deepEqual([jpeg.meta.width, jpeg.height], [640, 480]);
    const webp = await thumb('webp', 'width=800&height=600&method=scale');
    // 640x640 source does not fit in 800x600: scaled to 600x600, never up.
    assert.deepEqual([webp.meta.width, webp.height], [600, 600]);
  });

  test('other sizes: the next common size up, or generated on demand; never smaller than asked', async () => {
    // 50x50 crop is served by the 96x96 crop.
    const a = await thumb('png', 'width=50&height=50&method=crop');
    assert.deepEqual([a.meta.width, a.height], [96, 96]);
    // 1000x700 scale is not a common size: generated at exactly that box.
    const b = await thumb('jpeg', 'width=1000&height=700&method=scale');
    assert.deepEqual([b.meta.width, b.height], [933, 700]);
    // Same request again is served from the cache, byte for byte.
    const b2 = await thumb('jpeg', 'width=1000&height=700&method=scale');
    assert.ok(b2.res.bytes.equals(b.res.bytes));
    // method defaults to scale.
    const c = await thumb('png', 'width=100&height=100');
    assert.deepEqual([c.meta.width, c.height], [320, 240]);
  });

  test('content smaller than the box is returned as is (never upscaled)', async () => {
    const original = await get(server, `/_matrix/client/v1/media/download/${uris.tiny}`, alice.accessToken);
    const { res, meta } = await thumb('tiny', 'width=96&height=96&method=crop');
    assert.ok(res.bytes.equals(original.bytes));
    assert.deepEqual([meta.width, meta.height], [20, 10]);
  });

  test('animated GIF: animated=true gives an animated WebP; false or absent a still image', async () => {
    const anim = await thumb('gif', 'width=96&height=96&method=crop&animated=true');
    assert.equal(anim.res.headers.get('content-type'), 'image/webp');
    assert.equal(anim.meta.pages, 3);
    assert.deepEqual([anim.meta.width, anim.height], [96, 96]);
    for (const q of ['width=96&height=96&method=crop&animated=false', 'width=96&height=96&method=crop']) {
      const s = await thumb('gif', q);
      assert.equal(s.res.headers.get('content-type'), 'image/png');
      assert.equal(s.meta.pages ?? 1, 1);
    }
    // A still source with animated=true behaves as animated=false.
    const jpeg = await thumb('jpeg', 'width=96&height=96&method=crop&animated=true');
    assert.equal(jpeg.res.headers.get('content-type'), 'image/jpeg');
    // Animated source smaller than the box, animated=false: not returned as is (that would animate).
    const big = await thumb('gif', 'width=400&height=400&method=scale&animated=false');
    assert.equal(big.res.headers.get('content-type'), 'image/png');
    assert.equal(big.meta.pages ?? 1, 1);
  });

  test('the legacy endpoint serves thumbnails too', async () => {
    const { meta } = await thumb('png', 'width=32&height=32&method=crop', true);
    assert.equal(meta.width, 32);
  });

  test('bad parameters and content that cannot be thumbnailed', async () => {
    const t = (q: string, name = 'png') => get(server, `/_matrix/client/v1/media/thumbnail/${uris[name] ?? name}?${q}`, alice.accessToken);
    const missing = await t('width=32');
    assert.equal(missing.status, 400);
    assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
    for (const q of ['width=-5&height=32', 'width=abc&height=32', 'width=32&height=32&method=stretch', 'width=1.5&height=2']) {
      const r = await t(q);
      assert.equal(r.status, 400, q);
      assert.equal(r.json.errcode, 'M_INVALID_PARAM', q);
    }

    // A "PNG" that is not an image: a clear 400 M_UNKNOWN, and the server carries on.
    const fake = await upload(server, alice.accessToken, Buffer.from('%PDF-1.4 definitely not a png'), 'image/png', 'fake.png');
    const fakeThumb = await t('width=32&height=32', mxcPath(fake.json.content_uri));
    assert.equal(fakeThumb.status, 400);
    assert.equal(fakeThumb.json.errcode, 'M_UNKNOWN');
    // A truncated PNG (valid header, broken data).
    const real = await still(300, 300).png().toBuffer();
    const cut = await upload(server, alice.accessToken, real.subarray(0, 200), 'image/png', 'cut.png');
    const cutThumb = await t('width=32&height=32&method=crop', mxcPath(cut.json.content_uri));
    assert.equal(cutThumb.status, 400);
    assert.equal(cutThumb.json.errcode, 'M_UNKNOWN');
    assert.doesNotMatch(cutThumb.json.error, /vips|png|libpng/i, 'the decoder library\'s own message stays in the log');
    // Non-image media are never thumbnailed, even if the bytes are an image.
    const pdf = await upload(server, alice.accessToken, real, 'application/pdf', 'doc.pdf');
    const pdfThumb = await t('width=32&height=32', mxcPath(pdf.json.content_uri));
    assert.equal(pdfThumb.status, 400);
    assert.equal(pdfThumb.json.errcode, 'M_UNKNOWN');

    const unknown = await t('width=32&height=32', 'localhost/nothingHere');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.errcode, 'M_NOT_FOUND');
    assert.equal((await api(server, 'GET', '/_matrix/client/versions')).status, 200);
  });
});

describe('thumbnails: decompression bombs', () => {
  let server: TestServer;
  let alice: TestUser;
  before(async () => {
    server = await startServer({ config: { media: { max_thumbnail_source_pixels: 1_000_000 } } });
    alice = await registerUser(server);
  });
  after(async () => {
    await server.stop();
    server.cleanup();
  });

  test('an image with more pixels than allowed is 413 M_TOO_LARGE', async () => {
    // 2000x2000 of one colour compresses to a few KB but would decode to 12 MB.
    const bomb = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#336699' } }).png().toBuffer();
    const up = await upload(server, alice.accessToken, bomb, 'image/png');
    const res = await get(server, `/_matrix/client/v1/media/thumbnail/${mxcPath(up.json.content_uri)}?width=32&height=32`, alice.accessToken);
    assert.equal(res.status, 413);
    assert.equal(res.json.errcode, 'M_TOO_LARGE');
  });
});
