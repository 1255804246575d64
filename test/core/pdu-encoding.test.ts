/**
 * Built PDUs carry their encodings (src/core/pdu-encoding.ts) so the checks skip re-encoding them:
 * every figure taken from the remembered encoding must equal what a full encoding of a copy gives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { buildEvent } from '../../src/core/event-builder.js';
import { pduSize, toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import { checkContentHash, referenceHash } from '../../src/core/event-hashes.js';
import { verifyEventSignatures } from '../../src/core/event-signing.js';
import type { Pdu } from '../../src/core/pdu.js';
import { anyEncodingOf } from '../../src/core/pdu-encoding.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { knownRoomVersions } from '../../src/rooms/versions.js';

const KEY = generateSigningKey('k1');
const OTHER = generateSigningKey('k1');
const keyFor = (server: string, keyId: string) =>
  server === 'hs.example' && keyId === KEY.keyId ? { keyId: KEY.keyId, publicKey: KEY.publicKey } : undefined;
const wrongKey = (server: string, keyId: string) =>
  server === 'hs.example' && keyId === OTHER.keyId ? { keyId: OTHER.keyId, publicKey: OTHER.publicKey } : undefined;

test('remembered encodings agree with full encodings of a copy, in every room version', () => {
  for (const version of knownRoomVersions()) {
    const { pdu, event } = buildEvent(
      {
        type: 'm.room.member',
        stateKey: '@bob:hs.example',
        sender: '@bob:hs.example',
        content: { membership: 'join', displayname: 'Bøb ✓', extra: { nested: [1, 'two'] } },
        roomId: '!room:hs.example',
        prevEvents: ['$prev'],
        authEvents: ['$create'],
        depth: 3,
        originServerTs: 1_700_000_000_000,
      },
      version,
      'hs.example',
      KEY,
    );
    assert.ok(anyEncodingOf(pdu), `${version.id}: builder remembers the encoding`);
    const copy = structuredClone(pdu) as Pdu;
    assert.equal(anyEncodingOf(copy), undefined);
    assert.deepEqual(referenceHash(pdu, version), referenceHash(copy, version), version.id);
    assert.equal(toRoomEvent(copy, version).eventId, event.eventId, version.id);
    assert.equal(pduSize(pdu), Buffer.byteLength(canonicalJson(copy)), version.id);
    assert.equal(pduSize(pdu), pduSize(copy), version.id);
    assert.ok(checkContentHash(pdu) && checkContentHash(copy), version.id);
    assert.ok(verifyEventSignatures(pdu, version, keyFor).ok, version.id);
    assert.ok(verifyEventSignatures(copy, version, keyFor).ok, version.id);
    assert.equal(verifyEventSignatures(pdu, version, wrongKey).ok, false, `${version.id}: another key's signature is still checked`);
    assert.ok(validatePdu(pdu, version).ok, version.id);
  }
});

test('a changed copy of a built PDU is checked in full', () => {
  const version = knownRoomVersions().at(-1)!;
  const { pdu } = buildEvent(
    {
      type: 'm.room.message',
      sender: '@a:hs.example',
      content: { body: 'hi' },
      roomId: '!room:hs.example',
      prevEvents: ['$prev'],
      authEvents: ['$create'],
      depth: 3,
      originServerTs: 1_700_000_000_000,
    },
    version,
    'hs.example',
    KEY,
  );
  const tampered = { ...pdu, content: { body: 'changed' } } as Pdu;
  assert.equal(checkContentHash(tampered), false);
  const tamperedSigned = { ...pdu, origin_server_ts: 1 } as Pdu;
  assert.equal(verifyEventSignatures(tamperedSigned, version, keyFor).ok, false);
});
