/**
 * Remote media over federation, two real server processes on loopback TLS: a user on hs2 reads
 * media uploaded on hs1. Figures: first (remote fetch + cache) and cached download MB/s for 1 MB and
 * 100 MB files, and both servers' RSS while a 500 MB file crosses federation (must stream).
 * Run: node dist/bench/federation-media.js
 */
import { randomBytes } from 'node:crypto';
import { registerUser } from '../spec-tests/harness/client.js';
import { startFederation } from '../spec-tests/harness/federation.js';
import { download, MB, rssMb, uploadStream } from './load/media-io.js';

const fed = await startFederation(['hs1.test', 'hs2.test'], {
  config: () => ({ media: { max_upload_bytes: 600 * MB, remote_fetch_timeout_ms: 600_000 } }),
});
const hs1 = fed.get('hs1.test').server;
const hs2 = fed.get('hs2.test').server;
const alice = await registerUser(hs1);
const bob = await registerUser(hs2);

async function timed(f: () => Promise<number>, size: number): Promise<number> {
  const t = performance.now();
  const n = await f();
  if (n !== size) throw new Error(`downloaded ${n} of ${size}`);
  return performance.now() - t;
}

async function throughput(label: string, size: number, rounds: number): Promise<void> {
  const chunk = randomBytes(Math.min(size, MB));
  let firstMs = 0;
  let cachedMs = 0;
  for (let i = 0; i < rounds; i++) {
    randomBytes(32).copy(chunk);
    const mxc = await uploadStream(hs1, alice, chunk, size);
    firstMs += await timed(() => download(hs2, bob, mxc), size);
    cachedMs += await timed(() => download(hs2, bob, mxc), size);
  }
  const mb = (size * rounds) / MB;
  console.log(
    `${label} on hs2 from hs1: first (federation fetch + cache) ${(mb / (firstMs / 1000)).toFixed(0)} MB/s, cached ${(mb / (cachedMs / 1000)).toFixed(0)} MB/s (${rounds} rounds)`,
  );
}

await throughput('1 MB files', MB, 30);
await throughput('100 MB files', 100 * MB, 3);

const big = await uploadStream(hs1, alice, randomBytes(MB), 500 * MB);
const base = [rssMb(hs1.pid), rssMb(hs2.pid)];
const peak = [...base];
const timer = setInterval(() => {
  peak[0] = Math.max(peak[0], rssMb(hs1.pid));
  peak[1] = Math.max(peak[1], rssMb(hs2.pid));
}, 20);
const ms = await timed(() => download(hs2, bob, big), 500 * MB);
clearInterval(timer);
console.log(
  `500 MB remote download: ${(500 / (ms / 1000)).toFixed(0)} MB/s; RSS hs1 ${base[0].toFixed(0)} → peak ${peak[0].toFixed(0)} MB, hs2 ${base[1].toFixed(0)} → peak ${peak[1].toFixed(0)} MB`,
);

await fed.close();
