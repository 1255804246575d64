import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import nacl from 'tweetnacl';
import { decodeBase64, encodeBase64 } from '../../src/core/base64.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import {
  capValidUntilTs,
  formatSigningKeyFile,
  generateSigningKey,
  isKeyValidForEvent,
  isValidKeyId,
  parseSigningKeyFile,
  type SigningKey,
  signBytes,
  signingKeyFromSeed,
  signJson,
  type VerifyKey,
  verifyBytes,
  verifyJsonSignature,
} from '../../src/core/signing.js';

// Appendix "Cryptographic Test Vectors".
const SEED = decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');
const KEY = signingKeyFromSeed(SEED, 'ed25519:1');
const VERIFY: VerifyKey = { keyId: KEY.keyId, publicKey: KEY.publicKey };

test('appendix JSON signing vector: empty object', () => {
  const signed = signJson({}, 'domain', KEY);
  assert.deepEqual(signed, {
    signatures: {
      domain: {
        'ed25519:1': 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
      },
    },
  });
  assert.ok(verifyJsonSignature(signed, 'domain', VERIFY));
});

test('appendix JSON signing vector: object with data', () => {
  const signed = signJson({ one: 1, two: 'Two' }, 'domain', KEY);
  assert.equal(
    canonicalJson(signed),
    canonicalJson({
      one: 1,
      signatures: {
        domain: {
          'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
        },
      },
      two: 'Two',
    }),
  );
  assert.ok(verifyJsonSignature(signed, 'domain', VERIFY));
});

test('seed and public key agree with tweetnacl; signatures are identical', () => {
  const pair = nacl.sign.keyPair.fromSeed(SEED);
  assert.deepEqual(KEY.publicKey, pair.publicKey);
  for (let i = 0; i < 20; i++) {
    const k = generateSigningKey();
    const msg = new Uint8Array(randomBytes(i * 13));
    const mine = signBytes(msg, k);
    const theirs = nacl.sign.detached(msg, nacl.sign.keyPair.fromSeed(k.seed).secretKey);
    assert.deepEqual(mine, theirs);
    assert.ok(nacl.sign.detached.verify(msg, mine, k.publicKey));
    assert.ok(verifyBytes(msg, theirs, k.publicKey));
  }
});

test('verifyBytes rejects wrong signatures, keys and lengths without throwing', () => {
  const msg = new TextEncoder().encode('hello');
  const sig = signBytes(msg, KEY);
  assert.ok(verifyBytes(msg, sig, KEY.publicKey));
  const flipped = new Uint8Array(sig);
  flipped[10] ^= 1;
  assert.equal(verifyBytes(msg, flipped, KEY.publicKey), false);
  assert.equal(verifyBytes(new TextEncoder().encode('hellO'), sig, KEY.publicKey), false);
  assert.equal(verifyBytes(msg, sig, generateSigningKey().publicKey), false);
  assert.equal(verifyBytes(msg, sig.subarray(0, 63), KEY.publicKey), false);
  assert.equal(verifyBytes(msg, new Uint8Array(65), KEY.publicKey), false);
  assert.equal(verifyBytes(msg, sig, KEY.publicKey.subarray(1)), false);
  assert.equal(verifyBytes(msg, new Uint8Array(64), new Uint8Array(32).fill(0xff)), false);
  // S >= L (non-canonical scalar): malleated signature rejected.
  const malleable = new Uint8Array(sig);
  malleable[63] |= 0xf0;
  assert.equal(verifyBytes(msg, malleable, KEY.publicKey), false);
});

test('signJson excludes signatures and unsigned from the signed bytes and preserves them', () => {
  const other = generateSigningKey('other_1');
  const input = { b: 1, a: 'x', unsigned: { age_ts: 922834800000 }, signatures: { 'example.org': { 'ed25519:0': 'abc' } } };
  const signed = signJson(input, 'domain', KEY);
  assert.deepEqual(signed.unsigned, { age_ts: 922834800000 });
  assert.equal(signed.signatures['example.org']['ed25519:0'], 'abc');
  // The signature equals the one over the bare object.
  assert.equal(
    signed.signatures.domain['ed25519:1'],
    signJson({ a: 'x', b: 1 }, 'domain', KEY).signatures.domain['ed25519:1'],
  );
  // Input untouched.
  assert.deepEqual(Object.keys(input.signatures), ['example.org']);
  // A second signer under the same name and a different key is added alongside.
  const twice = signJson(signed, 'domain', other);
  assert.deepEqual(Object.keys(twice.signatures.domain).sort(), ['ed25519:1', 'ed25519:other_1']);
  assert.ok(verifyJsonSignature(twice, 'domain', VERIFY));
  assert.ok(verifyJsonSignature(twice, 'domain', { keyId: other.keyId, publicKey: other.publicKey }));
  // Changing unsigned or adding signatures does not break verification; changing content does.
  assert.ok(verifyJsonSignature({ ...twice, unsigned: { age: 5 } }, 'domain', VERIFY));
  assert.ok(verifyJsonSignature({ ...twice, signatures: { ...twice.signatures, x: { 'ed25519:y': 'z' } } }, 'domain', VERIFY));
  assert.equal(verifyJsonSignature({ ...twice, b: 2 }, 'domain', VERIFY), false);
});

test('signJson refuses values canonical JSON cannot encode', () => {
  assert.throws(() => signJson({ f: 1.5 }, 'domain', KEY));
  assert.throws(() => signJson({ signatures: 'nope' }, 'domain', KEY), TypeError);
  assert.throws(() => signJson({ signatures: { domain: [] } }, 'domain', KEY), TypeError);
});

test('verifyJsonSignature returns false for every kind of bad input', () => {
  const signed = signJson({ one: 1, two: 'Two' }, 'domain', KEY);
  const sig = signed.signatures.domain['ed25519:1'];
  const cases: object[] = [
    { one: 1, two: 'Two' },
    { one: 1, two: 'Two', signatures: null },
    { one: 1, two: 'Two', signatures: [] },
    { one: 1, two: 'Two', signatures: { domain: 'x' } },
    { one: 1, two: 'Two', signatures: { other: { 'ed25519:1': sig } } },
    { one: 1, two: 'Two', signatures: { domain: { 'ed25519:2': sig } } },
    { one: 1, two: 'Two', signatures: { domain: { 'ed25519:1': 5 } } },
    { one: 1, two: 'Two', signatures: { domain: { 'ed25519:1': '!!not base64!!' } } },
    { one: 1, two: 'Two', signatures: { domain: { 'ed25519:1': sig.slice(0, -4) } } },
    { one: 1, two: 'Two', signatures: { domain: { 'ed25519:1': encodeBase64(new Uint8Array(64)) } } },
    { one: 1.5, two: 'Two', signatures: signed.signatures },
    { one: 2 ** 60, two: 'Two', signatures: signed.signatures },
    [],
  ];
  for (const c of cases) assert.equal(verifyJsonSignature(c, 'domain', VERIFY), false, JSON.stringify(c));
  assert.equal(verifyJsonSignature(signed, 'domain', { ...VERIFY, keyId: 'curve25519:1' }), false);
  assert.equal(verifyJsonSignature(signed, 'domain', { ...VERIFY, publicKey: new Uint8Array(3) }), false);
  // Padded and URL-safe signatures decode too (decoding SHOULD be liberal).
  const urlSafe = sig.replace(/\+/g, '-').replace(/\//g, '_') + '==';
  assert.ok(verifyJsonSignature({ ...signed, signatures: { domain: { 'ed25519:1': urlSafe } } }, 'domain', VERIFY));
});

test('key id grammar', () => {
  for (const ok of ['ed25519:1', 'ed25519:a_AbCd', 'ed25519:0ldK3y', 'ed25519:___']) assert.ok(isValidKeyId(ok), ok);
  for (const bad of ['ed25519:', 'ed25519', 'ed25519:a-b', 'ed25519:a b', 'ed25519:a:b', 'ED25519:1', 'curve25519:1', ':1', 'ed25519:é']) {
    assert.equal(isValidKeyId(bad), false, bad);
  }
  assert.throws(() => signingKeyFromSeed(SEED, 'ed25519:bad-id'));
  assert.throws(() => signingKeyFromSeed(SEED.subarray(1), 'ed25519:1'), RangeError);
  assert.throws(() => generateSigningKey('with space'));
});

test('generated keys: Synapse-like version, working key pair, distinct seeds', () => {
  const a = generateSigningKey();
  const b = generateSigningKey();
  assert.match(a.keyId, /^ed25519:a_[a-zA-Z]{4}$/);
  assert.equal(a.seed.length, 32);
  assert.equal(a.publicKey.length, 32);
  assert.notDeepEqual(a.seed, b.seed);
  assert.equal(generateSigningKey('auto').keyId, 'ed25519:auto');
  assert.deepEqual(signingKeyFromSeed(a.seed, a.keyId).publicKey, a.publicKey);
  const msg = new Uint8Array([1, 2, 3]);
  assert.ok(verifyBytes(msg, signBytes(msg, a), a.publicKey));
});

test('signing key file round-trip and parsing rules', () => {
  const keys: SigningKey[] = [KEY, generateSigningKey('a_XyZw')];
  const text = formatSigningKeyFile(keys);
  // The appendix seed has non-zero trailing bits in its last character; we write the canonical form.
  assert.equal(text.split('\n')[0], 'ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0');
  assert.ok(text.endsWith('\n'));
  const parsed = parseSigningKeyFile(text);
  assert.deepEqual(parsed, keys.map((k) => ({ keyId: k.keyId, seed: k.seed, publicKey: k.publicKey })));
  assert.equal(formatSigningKeyFile(parsed), text);
  // Tolerated: CRLF, blank lines, extra spaces, padded seed.
  const loose = parseSigningKeyFile('\r\n  ed25519   1   YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1=  \r\n\n');
  assert.equal(loose.length, 1);
  assert.deepEqual(loose[0].publicKey, KEY.publicKey);
  assert.deepEqual(parseSigningKeyFile(''), []);
  for (const bad of [
    'ed25519 1',
    'ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1 extra',
    'rsa 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1',
    'ed25519 bad-v YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1',
    'ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA',
    'ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1AAAA',
    'ed25519 1 not*base64',
  ]) {
    assert.throws(() => parseSigningKeyFile(bad), Error, bad);
  }
  assert.throws(() => parseSigningKeyFile('\n\nnonsense'), /line 3/);
});

test('key validity for events (v5 signing requirements)', () => {
  const ts = 1_700_000_000_000;
  const key = (extra: Partial<VerifyKey>): VerifyKey => ({ ...VERIFY, ...extra });
  // Not enforced (room versions 1–4): anything goes.
  assert.ok(isKeyValidForEvent(key({ validUntilTs: ts - 1 }), ts, false));
  assert.ok(isKeyValidForEvent(key({ expiredTs: 0 }), ts, false));
  // Enforced: valid_until_ts must be at least origin_server_ts.
  assert.ok(isKeyValidForEvent(key({ validUntilTs: ts }), ts, true));
  assert.ok(isKeyValidForEvent(key({ validUntilTs: ts + 1 }), ts, true));
  assert.equal(isKeyValidForEvent(key({ validUntilTs: ts - 1 }), ts, true), false);
  // Old keys: usable for events up to their expiry.
  assert.ok(isKeyValidForEvent(key({ expiredTs: ts }), ts, true));
  assert.equal(isKeyValidForEvent(key({ expiredTs: ts - 1 }), ts, true), false);
  assert.equal(isKeyValidForEvent(key({ validUntilTs: ts + 10, expiredTs: ts - 1 }), ts, true), false);
  // No known limit (our own current key).
  assert.ok(isKeyValidForEvent(key({}), ts, true));
  // The 7-day cap is applied when storing fetched keys.
  const day = 24 * 3600 * 1000;
  assert.equal(capValidUntilTs(ts + 30 * day, ts), ts + 7 * day);
  assert.equal(capValidUntilTs(ts + day, ts), ts + day);
});
