/**
 * Hot-path crypto figures: Ed25519 sign/verify with tweetnacl vs node:crypto, and canonical JSON
 * throughput on event-sized objects. Each figure is the median of RUNS timed runs.
 * Run: npx tsc -p . && node dist/bench/crypto.js
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import nacl from 'tweetnacl';
import { canonicalJson, canonicalJsonBytes } from '../src/core/canonical-json.js';
import { generateSigningKey, signBytes, signJson, verifyBytes, verifyJsonSignature } from '../src/core/signing.js';

const ROUNDS = 15;
const SLICE_MS = 80;

/**
 * Operations per second of each case, median over ROUNDS. Cases are interleaved round by round
 * and timed in process CPU time, so other load on the machine skews them less and evenly.
 */
function opsPerSec(cases: Array<() => void>): number[] {
  for (const fn of cases) for (let i = 0; i < 50; i++) fn(); // warm-up
  const rates: number[][] = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    cases.forEach((fn, c) => {
      let n = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      do {
        for (let i = 0; i < 10; i++) fn();
        n += 10;
      } while (performance.now() - t0 < SLICE_MS);
      const cpu = process.cpuUsage(cpu0);
      rates[c].push((n * 1e6) / (cpu.user + cpu.system));
    });
  }
  return rates.map((l) => l.sort((a, b) => a - b)[l.length >> 1]);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);

// ---- realistic events ----------------------------------------------------------------------

function b64(n: number, seed: number): string {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let s = '';
  for (let i = 0; i < n; i++) s += a[(seed * 31 + i * 17) % 64];
  return s;
}

function baseEvent(i: number): Record<string, unknown> {
  return {
    auth_events: [`$${b64(43, i)}`, `$${b64(43, i + 1)}`, `$${b64(43, i + 2)}`],
    prev_events: [`$${b64(43, i + 3)}`],
    room_id: '!OGEhHVWSdvArJzumhm:matrix.org',
    sender: `@user${i}:example.org`,
    origin_server_ts: 1_700_000_000_000 + i,
    depth: 1000 + i,
    hashes: { sha256: b64(43, i + 4) },
    signatures: { 'example.org': { 'ed25519:a_AbCd': b64(86, i + 5) } },
    unsigned: { age_ts: 1_700_000_000_000 },
  };
}

function events(): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 30; i++) {
    out.push({
      ...baseEvent(i),
      type: 'm.room.message',
      content: {
        msgtype: 'm.text',
        body: `Message ${i}: the quick brown fox jumps over the lazy dog. Ünïcödé ✓ 日本語 😀 "quoted"\nline two`,
        format: 'org.matrix.custom.html',
        formatted_body: `<p>Message ${i}: the <b>quick</b> brown fox</p>`,
        'm.relates_to': i % 3 === 0 ? { rel_type: 'm.thread', event_id: `$${b64(43, i + 6)}`, is_falling_back: true } : undefined,
      },
    });
    out.push({
      ...baseEvent(i + 100),
      type: 'm.room.member',
      state_key: `@user${i}:example.org`,
      content: { membership: 'join', displayname: `User number ${i}`, avatar_url: `mxc://example.org/${b64(24, i)}` },
    });
  }
  const users: Record<string, number> = {};
  for (let i = 0; i < 60; i++) users[`@admin${i}:server${i % 7}.org`] = i % 3 === 0 ? 100 : 50;
  out.push({
    ...baseEvent(999),
    type: 'm.room.power_levels',
    state_key: '',
    content: { users, users_default: 0, events: { 'm.room.name': 50, 'm.room.power_levels': 100 }, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
  });
  // JSON.parse round-trip: drops the undefined members and gives objects the shape network input has.
  return out.map((e) => JSON.parse(JSON.stringify(e)));
}

// ---- Ed25519 -------------------------------------------------------------------------------

const key = generateSigningKey();
const naclPair = nacl.sign.keyPair.fromSeed(key.seed);
const evs = events();
const message = canonicalJsonBytes(evs[0]);
const sig = signBytes(message, key);
const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');

console.log(`Ed25519, ${message.length}-byte message (canonical JSON of a message event), median of ${ROUNDS} rounds`);
console.log('                                               sign/s    verify/s');
const rows: Array<[string, () => void, () => void]> = [
  ['tweetnacl', () => nacl.sign.detached(message, naclPair.secretKey), () => nacl.sign.detached.verify(message, sig, key.publicKey)],
  [
    'node:crypto, KeyObject built per call',
    () => nodeSign(null, message, createPrivateKey({ key: Buffer.concat([PKCS8, key.seed]), format: 'der', type: 'pkcs8' })),
    () => nodeVerify(null, message, createPublicKey({ key: Buffer.concat([SPKI, key.publicKey]), format: 'der', type: 'spki' }), sig),
  ],
  ['node:crypto, cached KeyObject (signing.ts)', () => signBytes(message, key), () => verifyBytes(message, sig, key.publicKey)],
];
const signRates = opsPerSec(rows.map((r) => r[1]));
const verifyRates = opsPerSec(rows.map((r) => r[2]));
rows.forEach(([name], i) => {
  console.log(`  ${name.padEnd(42)} ${fmt(signRates[i])}  ${fmt(verifyRates[i])}`);
});

// ---- canonical JSON ------------------------------------------------------------------------

const totalBytes = evs.reduce((n, e) => n + canonicalJsonBytes(e).length, 0);
console.log(`\nCanonical JSON, ${evs.length} events, ${totalBytes} bytes (avg ${Math.round(totalBytes / evs.length)} B), median of ${ROUNDS} rounds`);
const each = (f: (e: unknown) => unknown) => {
  for (const e of evs) f(e);
};
const cj: Array<[string, () => void]> = [
  ['canonicalJsonBytes (UTF-8 Buffer)', () => each(canonicalJsonBytes)],
  ['canonicalJson (string)', () => each(canonicalJson)],
  ['Buffer.from(JSON.stringify) (not canonical)', () => each((e) => Buffer.from(JSON.stringify(e)))],
];
opsPerSec(cj.map((c) => c[1])).forEach((perSec, i) => {
  console.log(`  ${cj[i][0].padEnd(44)} ${((perSec * totalBytes) / 1e6).toFixed(1).padStart(7)} MB/s  ${fmt(perSec * evs.length)} events/s`);
});

// ---- whole JSON signatures -----------------------------------------------------------------

const signed = evs.map((e) => signJson(e, 'example.org', key));
const vk = { keyId: key.keyId, publicKey: key.publicKey };
let i = 0;
let j = 0;
const [signJsonRate, verifyJsonRate] = opsPerSec([
  () => signJson(evs[i++ % evs.length], 'example.org', key),
  () => verifyJsonSignature(signed[j++ % signed.length], 'example.org', vk),
]);
console.log('\nJSON signatures over the same events (canonical JSON + Ed25519), median');
console.log(`  signJson            ${fmt(signJsonRate)} /s`);
console.log(`  verifyJsonSignature ${fmt(verifyJsonRate)} /s`);
