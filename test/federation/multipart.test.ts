import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { multipartBoundary, readMultipartMedia, writeMultipartMedia } from '../../federation/media/multipart.js';
import { filenameFromDisposition } from '../../src/media/content-headers.js';

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

/** `data` cut into pieces of `size` bytes (so delimiters straddle chunk edges). */
async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

test('what the writer produces the reader gives back byte for byte, whatever the chunking', async () => {
  const media = randomBytes(70_000);
  const written = writeMultipartMedia(
    { k: 1 },
    { headers: { 'Content-Type': 'image/png', 'Content-Disposition': 'inline; filename="a.png"' }, body: Readable.from([media]), length: media.length },
  );
  const all = await collect(written.stream);
  assert.equal(written.length, all.length);
  const boundary = multipartBoundary(written.contentType);
  assert.ok(boundary);
  for (const size of [7, 41, 4096, all.length]) {
    const parsed = await readMultipartMedia(pieces(all, size), boundary);
    assert.deepEqual(parsed.metadata, { k: 1 });
    assert.equal(parsed.headers['content-type'], 'image/png');
    assert.equal(filenameFromDisposition(parsed.headers['content-disposition']), 'a.png');
    assert.ok((await collect(parsed.body)).equals(media), `chunk size ${size}`);
  }
});

test('media bytes that look like the start of the delimiter are content, across any chunk edge', async () => {
  const media = Buffer.from('\r\n--ab\r\n--a\r\n-\r\n--abX\r\r\n--'.repeat(40));
  const all = Buffer.concat([Buffer.from('--abc\r\n\r\n{}\r\n--abc\r\n\r\n'), media, Buffer.from('\r\n--abc--\r\n')]);
  for (let size = 1; size <= 9; size++) {
    const parsed = await readMultipartMedia(pieces(all, size), 'abc');
    assert.ok((await collect(parsed.body)).equals(media), `chunk size ${size}`);
  }
});

test('preamble, quoted boundary, padding and a part without headers are accepted; a Location part has no body bytes', async () => {
  const body = Buffer.from(
    'ignored preamble\r\n--b0undary  \r\n\r\n{}\r\n--b0undary\r\nLocation: https://cdn.example/x\r\n\r\n\r\n--b0undary--\r\n',
  );
  const boundary = multipartBoundary('multipart/mixed; charset=x; boundary="b0undary"');
  assert.equal(boundary, 'b0undary');
  const parsed = await readMultipartMedia(pieces(body, 5), 'b0undary');
  assert.deepEqual(parsed.metadata, {});
  assert.equal(parsed.headers.location, 'https://cdn.example/x');
  assert.equal((await collect(parsed.body)).length, 0);
});

test('malformed or truncated bodies are refused', async () => {
  const ok = '--B\r\nContent-Type: application/json\r\n\r\n{}\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello';
  // No closing delimiter: the transfer was cut, the media is incomplete.
  const cut = await readMultipartMedia(pieces(Buffer.from(ok), 3), 'B');
  await assert.rejects(collect(cut.body), /truncated/);
  await assert.rejects(readMultipartMedia(pieces(Buffer.from('--B\r\n\r\n{}\r\n--B--\r\n'), 4), 'B'), /two parts/);
  await assert.rejects(readMultipartMedia(pieces(Buffer.from('--B\r\n\r\nnot json\r\n--B\r\n\r\nx\r\n--B--'), 4), 'B'), /not JSON/);
  await assert.rejects(readMultipartMedia(pieces(Buffer.from(`--B\r\n\r\n${' '.repeat(70_000)}{}`), 1000), 'B'), /too large/);
  await assert.rejects(readMultipartMedia(pieces(Buffer.from('no delimiter at all'), 4), 'B'), /truncated/);
  assert.equal(multipartBoundary('application/json'), undefined);
  assert.equal(multipartBoundary('multipart/mixed'), undefined);
});

test('Content-Disposition filenames from other servers: filename* wins, unsafe names are dropped', () => {
  assert.equal(filenameFromDisposition(`attachment; filename="a b.txt"; filename*=utf-8''%C3%A9t%C3%A9.txt`), 'été.txt');
  assert.equal(filenameFromDisposition('inline; filename=plain.txt'), 'plain.txt');
  assert.equal(filenameFromDisposition('inline; filename="q\\"uote.txt"'), 'q"uote.txt');
  assert.equal(filenameFromDisposition(`inline; filename*=utf-8''bad%0Aname`), null);
  assert.equal(filenameFromDisposition('inline'), null);
  assert.equal(filenameFromDisposition(undefined), null);
});
