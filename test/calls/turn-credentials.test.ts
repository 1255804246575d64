import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { turnCredentials, turnPassword } from '../../src/calls/turn-credentials.js';

const base = { uris: ['turn:127.0.0.1:3478?transport=udp'], shared_secret: null, username: null, password: null, user_lifetime_ms: 86_400_000 };

test('shared secret: username is expiry:user_id, password base64 HMAC-SHA1 of it', () => {
  const now = 1_700_000_000_123;
  const creds = turnCredentials({ ...base, shared_secret: 's3cret' }, '@alice:hs', now);
  assert.ok(creds);
  assert.equal(creds.username, `${1_700_000_000 + 86_400}:@alice:hs`);
  assert.equal(creds.ttl, 86_400);
  assert.deepEqual(creds.uris, base.uris);
  const expected = createHmac('sha1', 's3cret').update(creds.username).digest('base64');
  assert.equal(creds.password, expected);
  assert.equal(turnPassword('s3cret', creds.username), expected);
  assert.notEqual(turnPassword('other', creds.username), expected);
});

test('a known vector (RFC 2202 test case 2 with a base64 digest)', () => {
  assert.equal(turnPassword('Jefe', 'what do ya want for nothing?'), Buffer.from('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', 'hex').toString('base64'));
});

test('static credentials are handed out as configured', () => {
  const creds = turnCredentials({ ...base, username: 'u', password: 'p', user_lifetime_ms: 60_000 }, '@a:hs', 0);
  assert.deepEqual(creds, { username: 'u', password: 'p', uris: base.uris, ttl: 60 });
});

test('the shared secret wins over static credentials', () => {
  const creds = turnCredentials({ ...base, shared_secret: 'x', username: 'u', password: 'p' }, '@a:hs', 0);
  assert.match(creds?.username ?? '', /^86400:@a:hs$/);
});

test('nothing configured: no credentials', () => {
  assert.equal(turnCredentials(base, '@a:hs', 0), undefined);
  assert.equal(turnCredentials({ ...base, uris: [], shared_secret: 'x' }, '@a:hs', 0), undefined);
});
