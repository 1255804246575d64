/**
 * Media repository throughput over real HTTP against a real server process:
 * upload/download MB/s for 1 MB and 100 MB files, thumbnail generation per second, and the server's
 * RSS while a 1 GB file is downloaded (it must stream, not buffer).
 * Run: node dist/bench/media.js
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { registerUser } from '../spec-tests/harness/client.js';
import { startServer } from '../spec-tests/harness/server.js';
import { download, MB, rssMb, uploadStream } from './load/media-io.js';

const server = await startServer({
  config: { media: { max_upload_bytes: 1100 * MB } },
});
const user = await registerUser(server);

async function throughput(label: string, size: number, rounds: number): Promise<void> {
  const chunk = randomBytes(Math.min(size, MB));
  let upMs = 0;
  let downMs = 0;
  for (let i = 0; i < rounds; i++) {
    // A fresh random first chunk per round so each upload is new content (no dedup shortcut).
    randomBytes(32).copy(chunk);
    let t = performance.now();
    const mxc = await uploadStream(server, user, chunk, size);
    upMs += performance.now() - t;
    t = performance.now();
    const n = await download(server, user, mxc);
    downMs += performance.now() - t;
    if (n !== size) throw new Error(`downloaded ${n} of ${size}`);
  }
  const mb = (size * rounds) / MB;
  console.log(
    `${label}: upload ${(mb / (upMs / 1000)).toFixed(0)} MB/s, download ${(mb / (downMs / 1000)).toFixed(0)} MB/s (${rounds} rounds)`,
  );
}

await throughput('1 MB files', MB, 50);
await throughput('100 MB files', 100 * MB, 3);

// Thumbnails: distinct on-demand sizes force a generation each; a repeated common size is a cache hit.
const photo = await sharp(randomBytes(1600 * 1200 * 3), { raw: { width: 1600, height: 1200, channels: 3 } })
  .jpeg()
  .toBuffer();
const mxc = await uploadStream(server, user, photo, photo.length, 'image/jpeg');
const thumb = async (q: string) => {
  const res = await fetch(`${server.baseUrl}/_matrix/client/v1/media/thumbnail/${mxc.slice(6)}?${q}`, {
    headers: { authorization: `Bearer ${user.accessToken}` },
  });
  if (res.status !== 200) throw new Error(await res.text());
  await res.arrayBuffer();
};
let t = performance.now();
const N = 40;
for (let i = 0; i < N; i++) await thumb(`width=${900 + i}&height=${700 + i}&method=scale`);
let ms = performance.now() - t;
console.log(`thumbnail generation (1600x1200 JPEG → ~900x700, on demand): ${((N / ms) * 1000).toFixed(1)}/s sequential`);
t = performance.now();
await Promise.all(Array.from({ length: N }, (_, i) => thumb(`width=${200 + i}&height=${150 + i}&method=crop`)));
ms = performance.now() - t;
console.log(`thumbnail generation (crop ~200x150, ${N} concurrent): ${((N / ms) * 1000).toFixed(1)}/s`);
t = performance.now();
for (let i = 0; i < 200; i++) await thumb('width=96&height=96&method=crop');
ms = performance.now() - t;
console.log(`cached thumbnail (96x96 crop): ${((200 / ms) * 1000).toFixed(0)}/s sequential`);

// 1 GB download: sample the server's RSS while the client reads it.
const big = await uploadStream(server, user, randomBytes(MB), 1024 * MB);
const baseline = rssMb(server.pid);
let peak = baseline;
const timer = setInterval(() => {
  peak = Math.max(peak, rssMb(server.pid));
}, 20);
t = performance.now();
const n = await download(server, user, big);
ms = performance.now() - t;
clearInterval(timer);
console.log(
  `1 GB download: ${(n / MB / (ms / 1000)).toFixed(0)} MB/s; server RSS before ${baseline.toFixed(0)} MB, peak during ${peak.toFixed(0)} MB (+${(peak - baseline).toFixed(0)} MB)`,
);

await server.stop();
server.cleanup();
