import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeBase64, encodeBase64, encodeBase64Url } from '../../src/core/base64.js';

const enc = (s: string) => new TextEncoder().encode(s);

test('appendix unpadded base64 examples', () => {
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ];
  for (const [plain, b64] of vectors) {
    assert.equal(encodeBase64(enc(plain)), b64);
    assert.equal(encodeBase64Url(enc(plain)), b64);
    assert.deepEqual(decodeBase64(b64), enc(plain));
  }
});

test('standard vs URL-safe alphabet', () => {
  const bytes = new Uint8Array([0xfb, 0xff, 0xbf]);
  assert.equal(encodeBase64(bytes), '+/+/');
  assert.equal(encodeBase64Url(bytes), '-_-_');
  assert.deepEqual(decodeBase64('+/+/'), bytes);
  assert.deepEqual(decodeBase64('-_-_'), bytes);
});

test('decoding accepts padding', () => {
  assert.deepEqual(decodeBase64('Zg=='), enc('f'));
  assert.deepEqual(decodeBase64('Zm8='), enc('fo'));
  assert.deepEqual(decodeBase64('Zm9vYg=='), enc('foob'));
  assert.deepEqual(decodeBase64('-_8='), new Uint8Array([0xfb, 0xff]));
});

test('round-trips random data of every length mod 3, and subarray views', () => {
  for (let n = 0; n < 70; n++) {
    const bytes = new Uint8Array(randomBytes(n));
    assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
    assert.deepEqual(decodeBase64(encodeBase64Url(bytes)), bytes);
    assert.ok(!encodeBase64(bytes).includes('='));
  }
  const big = new Uint8Array([1, 2, 3, 4, 5, 6]);
  assert.equal(encodeBase64(big.subarray(3)), encodeBase64(new Uint8Array([4, 5, 6])));
});

test('rejects garbage', () => {
  const bad = [
    'Z', // one leftover char cannot hold a byte
    'Zm9vY',
    'Zg=', // padding that does not complete a quantum
    'Zg===',
    'Zm9v=',
    '=',
    '====',
    'Zm 9v',
    'Zm9v\n',
    'Zm9v!',
    'Zg=x',
    'Z=g=',
    '+-', // mixed alphabets
    '_/AA',
    'Zm9v日本',
  ];
  for (const s of bad) assert.throws(() => decodeBase64(s), Error, JSON.stringify(s));
  assert.throws(() => decodeBase64(5 as unknown as string), TypeError);
});

test('non-zero trailing bits are tolerated (the appendix signing key seed has them)', () => {
  const seed = decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');
  assert.equal(seed.length, 32);
  assert.deepEqual(seed, decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0'));
  assert.equal(encodeBase64(seed), 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0');
  assert.deepEqual(decodeBase64('Zh'), decodeBase64('Zg'));
});
