import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseXMatrix, signRequest, verifyRequestSignature } from '../../federation/auth/x-matrix.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { serverAclAllows } from '../../src/rooms/server-acl.js';
import { parseServerName } from '../../src/core/server-name.js';

const key = generateSigningKey('k1');
const verifyKey = { keyId: key.keyId, publicKey: key.publicKey };
const req = { method: 'PUT', uri: '/_matrix/federation/v1/send/1?x=1', origin: 'a.test', destination: 'b.test', content: { pdus: [] } };

test('a signed request header parses and verifies; changing any signed part breaks it', () => {
  const header = signRequest(req, key);
  assert.match(header, /^X-Matrix origin="a\.test",destination="b\.test",key="ed25519:k1",sig="/);
  const p = parseXMatrix(header);
  assert.ok(p.ok);
  assert.equal(p.params.origin, 'a.test');
  assert.equal(p.params.destination, 'b.test');
  const { origin: _o, ...rest } = req;
  assert.equal(verifyRequestSignature(p.params, rest, verifyKey), true);
  assert.equal(verifyRequestSignature(p.params, { ...rest, uri: '/_matrix/federation/v1/send/1' }, verifyKey), false);
  assert.equal(verifyRequestSignature(p.params, { ...rest, method: 'POST' }, verifyKey), false);
  assert.equal(verifyRequestSignature(p.params, { ...rest, destination: 'c.test' }, verifyKey), false);
  assert.equal(verifyRequestSignature(p.params, { ...rest, content: { pdus: [1] } }, verifyKey), false);
  const other = generateSigningKey('k1');
  assert.equal(verifyRequestSignature(p.params, rest, { keyId: 'ed25519:k1', publicKey: other.publicKey }), false);
});

test('header syntax: case-insensitive names, any order, bare tokens with colons, escapes, extra params', () => {
  const p = parseXMatrix('X-Matrix  SIG="s\\"ig" , Key=ed25519:k1,\torigin=a.test:8448,unknown="x",destination="b.test"');
  assert.ok(p.ok);
  assert.deepEqual(p.params, { origin: 'a.test:8448', destination: 'b.test', key: 'ed25519:k1', sig: 's"ig' });
  const noDest = parseXMatrix('X-Matrix origin=a.test,key="ed25519:k1",sig="abc"');
  assert.ok(noDest.ok);
  assert.equal(noDest.params.destination, undefined);
});

test('malformed headers give reasons', () => {
  for (const h of [
    undefined,
    'Bearer abc',
    'X-Matrix origin="a.test",key="ed25519:k1"',
    'X-Matrix origin="a.test",key="ed25519:k1",sig="abc',
    'X-Matrix origin="bad name!",key="ed25519:k1",sig="abc"',
    'X-Matrix origin="a.test",key="rsa:k1",sig="abc"',
    'X-Matrix origin',
  ]) {
    const r = parseXMatrix(h);
    assert.equal(r.ok, false, String(h));
    if (!r.ok) assert.equal(typeof r.reason, 'string');
  }
});

test('server names: hosts, ports, IP literals', () => {
  assert.deepEqual(parseServerName('example.org'), { host: 'example.org', port: undefined, ipFamily: 0 });
  assert.deepEqual(parseServerName('example.org:8449'), { host: 'example.org', port: 8449, ipFamily: 0 });
  assert.deepEqual(parseServerName('1.2.3.4:5'), { host: '1.2.3.4', port: 5, ipFamily: 4 });
  assert.deepEqual(parseServerName('[::1]:8448'), { host: '::1', port: 8448, ipFamily: 6 });
  for (const bad of ['', '::1', 'a b', 'x:0', 'x:70000', '[::1', 'x:', '[1.2.3.4]']) assert.equal(parseServerName(bad), undefined, bad);
});

test('server ACL evaluation follows the event definition order', () => {
  assert.equal(serverAclAllows(undefined, 'evil.test'), true);
  const acl = { allow: ['*'], deny: ['evil.test', '*.bad.test'], allow_ip_literals: false };
  assert.equal(serverAclAllows(acl, 'good.test'), true);
  assert.equal(serverAclAllows(acl, 'evil.test:8448'), false, 'ports are not considered');
  assert.equal(serverAclAllows(acl, 'EVIL.test'), false, 'case-insensitive');
  assert.equal(serverAclAllows(acl, 'x.bad.test'), false);
  assert.equal(serverAclAllows(acl, '1.2.3.4'), false);
  assert.equal(serverAclAllows({ allow: ['*'] }, '1.2.3.4'), true);
  assert.equal(serverAclAllows({}, 'good.test'), false, 'no allow list denies everyone');
  assert.equal(serverAclAllows({ allow: ['h?.test'] }, 'hs.test'), true);
  assert.equal(serverAclAllows({ allow: ['h?.test'] }, 'hss.test'), false);
  assert.equal(serverAclAllows({ allow: ['a.test'] }, 'aXtest'), false, 'dots are literal');
});
