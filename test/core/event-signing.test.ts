import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBase64, encodeBase64 } from '../../src/core/base64.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { validatePdu } from '../../src/core/event-format.js';
import { checkContentHash, computeContentHash } from '../../src/core/event-hashes.js';
import { hashAndSignEvent, requiredSignatures, verifyEventSignatures } from '../../src/core/event-signing.js';
import type { Pdu } from '../../src/core/pdu.js';
import { redactPdu } from '../../src/core/redaction.js';
import { type SigningKey, type VerifyKey, generateSigningKey, signingKeyFromSeed } from '../../src/core/signing.js';
import { type RoomVersion, getRoomVersion, knownRoomVersions } from '../../src/rooms/versions.js';

function v(id: string): RoomVersion {
  const r = getRoomVersion(id);
  if (r === undefined) throw new Error(`unknown version ${id}`);
  return r;
}

// Appendix "Cryptographic Test Vectors": seed, server name and key ID.
const SEED = decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');
const KEY = signingKeyFromSeed(SEED, 'ed25519:1');

// Appendix "Event Signing", inputs and outputs verbatim.
const MINIMAL_IN = `{
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "signatures": {},
    "hashes": {},
    "type": "X",
    "content": {},
    "prev_events": [],
    "auth_events": [],
    "depth": 3,
    "unsigned": {
        "age_ts": 1000000
    }
}`;
const MINIMAL_OUT = `{
    "auth_events": [],
    "content": {},
    "depth": 3,
    "hashes": {
        "sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"
    },
    "origin": "domain",
    "origin_server_ts": 1000000,
    "prev_events": [],
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "signatures": {
        "domain": {
            "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"
        }
    },
    "type": "X",
    "unsigned": {
        "age_ts": 1000000
    }
}`;
const MESSAGE_IN = `{
    "content": {
        "body": "Here is the message content"
    },
    "event_id": "$0:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {},
    "unsigned": {
        "age_ts": 1000000
    }
}`;
const MESSAGE_OUT = `{
    "content": {
        "body": "Here is the message content"
    },
    "event_id": "$0:domain",
    "hashes": {
        "sha256": "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"
    },
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {
        "domain": {
            "ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"
        }
    },
    "unsigned": {
        "age_ts": 1000000
    }
}`;

const verifyKeyOf = (k: SigningKey, extra: Partial<VerifyKey> = {}): VerifyKey => ({ keyId: k.keyId, publicKey: k.publicKey, ...extra });

test('appendix event signing vectors, byte for byte (redaction rules v1–v10 keep `origin`)', () => {
  for (const version of knownRoomVersions().filter((x) => !x.redactsInContent)) {
    for (const [input, output] of [
      [MINIMAL_IN, MINIMAL_OUT],
      [MESSAGE_IN, MESSAGE_OUT],
    ]) {
      const signed = hashAndSignEvent(JSON.parse(input) as Pdu, 'domain', KEY, version);
      assert.equal(canonicalJson(signed), canonicalJson(JSON.parse(output)), `v${version.id}`);
      assert.ok(checkContentHash(signed));
    }
  }
  // v11 stops protecting `origin`, so the same event signs differently but the hash is unchanged.
  const v11 = hashAndSignEvent(JSON.parse(MINIMAL_IN) as Pdu, 'domain', KEY, v('11'));
  assert.equal(v11.hashes.sha256, '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
  assert.notEqual(v11.signatures.domain['ed25519:1'], JSON.parse(MINIMAL_OUT).signatures.domain['ed25519:1']);
});

test('the appendix vectors verify, and verify again once redacted', () => {
  const key = verifyKeyOf(KEY);
  const signed = JSON.parse(MINIMAL_OUT) as Pdu;
  const keyFor = (server: string, keyId: string) => (server === 'domain' && keyId === 'ed25519:1' ? key : undefined);
  assert.deepEqual(verifyEventSignatures(signed, v('3'), keyFor), { ok: true, value: true });
  const redacted = redactPdu(JSON.parse(MESSAGE_OUT) as Pdu, v('1'));
  assert.deepEqual(verifyEventSignatures(redacted, v('1'), keyFor), { ok: true, value: true });
  // …but the redacted copy's content hash no longer matches, which is how receivers notice.
  assert.equal(checkContentHash(redacted), false);
  assert.equal(checkContentHash(JSON.parse(MESSAGE_OUT) as Pdu), true);
});

test('content hash covers everything but unsigned, signatures and hashes', () => {
  const ev = JSON.parse(MESSAGE_OUT) as Pdu;
  assert.equal(computeContentHash(ev), 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g');
  assert.equal(computeContentHash({ ...ev, unsigned: { age: 1 }, signatures: {}, hashes: { sha256: 'x', other: 'y' } }), ev.hashes.sha256);
  assert.equal(checkContentHash({ ...ev, content: { body: 'changed' } }), false);
  assert.equal(checkContentHash({ ...ev, hashes: { sha256: 'not base64!' } }), false);
  assert.equal(checkContentHash({ ...ev, hashes: { sha256: ev.hashes.sha256.slice(0, 20) } }), false);
  assert.equal(checkContentHash({ ...ev, hashes: {} } as unknown as Pdu), false);
  assert.equal(checkContentHash({ ...ev, hashes: undefined } as unknown as Pdu), false);
  // Padded and URL-safe spellings decode to the same bytes and are accepted.
  assert.equal(checkContentHash({ ...ev, hashes: { sha256: `${ev.hashes.sha256}=` } }), true);
  assert.equal(checkContentHash({ ...ev, content: { n: 1.5 } }), false, 'non-canonical JSON is a failed check, not a throw');
});

// ---- verification ----------------------------------------------------------------------

const ALICE = generateSigningKey('alice1');
const ALICE_OLD = generateSigningKey('alice0');
const BOB = generateSigningKey('bob1');
const TS = 1_700_000_000_000;

type KeyTable = Record<string, Record<string, VerifyKey>>;
const lookup = (t: KeyTable) => (server: string, keyId: string) => t[server]?.[keyId];

function baseEvent(version: RoomVersion, extra: Partial<Pdu> = {}): Pdu {
  const pdu: Pdu = {
    type: 'm.room.message',
    room_id: '!r:alice.org',
    sender: '@a:alice.org',
    origin_server_ts: TS,
    content: { body: 'hi', msgtype: 'm.text' },
    prev_events: [],
    auth_events: [],
    depth: 2,
    hashes: { sha256: '' },
    signatures: {},
    ...extra,
  };
  if (version.eventIdFormat === 'server-assigned' && pdu.event_id === undefined) pdu.event_id = '$1:alice.org';
  return pdu;
}

const failure = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

test('valid signatures pass; bad, missing and unknown-key signatures are rejected with reasons', () => {
  const keys: KeyTable = { 'alice.org': { [ALICE.keyId]: verifyKeyOf(ALICE) } };
  for (const version of knownRoomVersions()) {
    const signed = hashAndSignEvent(baseEvent(version), 'alice.org', ALICE, version);
    assert.equal(validatePdu(signed, version).ok, true);
    assert.equal(failure(verifyEventSignatures(signed, version, lookup(keys))), 'ok');

    // Tampering with a signed (essential) field breaks the signature.
    const tampered = { ...signed, sender: '@mallory:alice.org' };
    assert.match(failure(verifyEventSignatures(tampered, version, lookup(keys))) ?? '', /^bad signature from alice.org/);
    // Tampering with content only breaks the content hash (messages keep no content when redacted).
    const edited = { ...signed, content: { body: 'edited' } };
    assert.equal(failure(verifyEventSignatures(edited, version, lookup(keys))), 'ok');
    assert.equal(checkContentHash(edited), false);
    // A forged signature value.
    const forged = { ...signed, signatures: { 'alice.org': { [ALICE.keyId]: encodeBase64(new Uint8Array(64)) } } };
    assert.match(failure(verifyEventSignatures(forged, version, lookup(keys))) ?? '', /^bad signature/);
    const garbled = { ...signed, signatures: { 'alice.org': { [ALICE.keyId]: '***' } } };
    assert.match(failure(verifyEventSignatures(garbled, version, lookup(keys))) ?? '', /^bad signature/);
    // No signature from the sender's server at all.
    const unsigned = { ...signed, signatures: {} };
    assert.match(failure(verifyEventSignatures(unsigned, version, lookup(keys))) ?? '', /^no valid signature from alice.org/);
    // Signed by someone else only.
    const byBob = hashAndSignEvent(baseEvent(version), 'bob.org', BOB, version);
    const bobKeys: KeyTable = { ...keys, 'bob.org': { [BOB.keyId]: verifyKeyOf(BOB) } };
    assert.match(failure(verifyEventSignatures(byBob, version, lookup(bobKeys))) ?? '', /^no valid signature from alice.org/);
    // Unknown keys are skipped: no known key means no valid signature.
    assert.match(failure(verifyEventSignatures(signed, version, lookup({}))) ?? '', /^no valid signature from alice.org/);
  }
});

test('a bad signature from one known key fails even if another key signed correctly; unknown algorithms are ignored', () => {
  const version = v('10');
  const keys: KeyTable = { 'alice.org': { [ALICE.keyId]: verifyKeyOf(ALICE), [ALICE_OLD.keyId]: verifyKeyOf(ALICE_OLD) } };
  const signed = hashAndSignEvent(baseEvent(version), 'alice.org', ALICE, version);
  const twice = hashAndSignEvent(signed, 'alice.org', ALICE_OLD, version);
  assert.deepEqual(Object.keys(twice.signatures['alice.org']).sort(), [ALICE.keyId, ALICE_OLD.keyId].sort());
  assert.equal(failure(verifyEventSignatures(twice, version, lookup(keys))), 'ok');
  const oneBad = { ...twice, signatures: { 'alice.org': { ...twice.signatures['alice.org'], [ALICE_OLD.keyId]: signed.signatures['alice.org'][ALICE.keyId] } } };
  assert.match(failure(verifyEventSignatures(oneBad, version, lookup(keys))) ?? '', new RegExp(`^bad signature from alice.org with ${ALICE_OLD.keyId}`));
  const extraAlg = { ...signed, signatures: { 'alice.org': { ...signed.signatures['alice.org'], 'curve25519:x': 'junk' } } };
  assert.equal(failure(verifyEventSignatures(extraAlg, version, lookup(keys))), 'ok');
});

test('key validity: enforced from v5 (valid_until_ts and expired_ts), not in v1–v4', () => {
  for (const version of knownRoomVersions()) {
    const signed = hashAndSignEvent(baseEvent(version), 'alice.org', ALICE, version);
    const withKey = (k: VerifyKey) => verifyEventSignatures(signed, version, lookup({ 'alice.org': { [ALICE.keyId]: k } }));
    const expiredBefore = verifyKeyOf(ALICE, { validUntilTs: TS - 1 });
    const oldKeyExpired = verifyKeyOf(ALICE, { expiredTs: TS - 1 });
    const validAtTs = verifyKeyOf(ALICE, { validUntilTs: TS });
    assert.equal(failure(withKey(validAtTs)), 'ok');
    assert.equal(failure(withKey(verifyKeyOf(ALICE, { expiredTs: TS + 1 }))), 'ok');
    if (version.enforceKeyValidity) {
      assert.ok(Number(version.id) >= 5);
      assert.match(failure(withKey(expiredBefore)) ?? '', /^no valid signature from alice.org/);
      assert.match(failure(withKey(oldKeyExpired)) ?? '', /^no valid signature from alice.org/);
    } else {
      assert.ok(Number(version.id) <= 4);
      assert.equal(failure(withKey(expiredBefore)), 'ok');
      assert.equal(failure(withKey(oldKeyExpired)), 'ok');
    }
  }
});

test('requiredSignatures: sender, v1/v2 event_id server, restricted-join authoriser, third-party invites', () => {
  assert.deepEqual(requiredSignatures(baseEvent(v('1'), { event_id: '$x:bob.org' }), v('1')), ['alice.org', 'bob.org']);
  assert.deepEqual(requiredSignatures(baseEvent(v('2'), { event_id: '$x:alice.org' }), v('2')), ['alice.org']);
  assert.deepEqual(requiredSignatures(baseEvent(v('3'), { event_id: '$x:bob.org' }), v('3')), ['alice.org']);

  const join = (version: RoomVersion, membership = 'join') =>
    baseEvent(version, {
      type: 'm.room.member',
      state_key: '@a:alice.org',
      content: { membership, join_authorised_via_users_server: '@admin:bob.org' },
    });
  assert.deepEqual(requiredSignatures(join(v('7')), v('7')), ['alice.org']);
  for (const id of ['8', '9', '10', '11', '12']) assert.deepEqual(requiredSignatures(join(v(id)), v(id)), ['alice.org', 'bob.org']);
  assert.deepEqual(requiredSignatures(join(v('9'), 'leave'), v('9')), ['alice.org']);

  const tpInvite = baseEvent(v('10'), {
    type: 'm.room.member',
    state_key: '@c:carol.org',
    content: { membership: 'invite', third_party_invite: { signed: { mxid: '@c:carol.org', token: 't' } } },
  });
  assert.deepEqual(requiredSignatures(tpInvite, v('10')), []);
});

test('restricted joins must carry a valid signature from the authorising server', () => {
  const version = v('10');
  const keys: KeyTable = { 'alice.org': { [ALICE.keyId]: verifyKeyOf(ALICE) }, 'bob.org': { [BOB.keyId]: verifyKeyOf(BOB) } };
  const join = baseEvent(version, {
    type: 'm.room.member',
    state_key: '@a:alice.org',
    content: { membership: 'join', join_authorised_via_users_server: '@admin:bob.org' },
  });
  const joinerSigned = hashAndSignEvent(join, 'alice.org', ALICE, version);
  assert.match(failure(verifyEventSignatures(joinerSigned, version, lookup(keys))) ?? '', /^no valid signature from bob.org/);
  const both = hashAndSignEvent(joinerSigned, 'bob.org', BOB, version);
  assert.equal(both.hashes.sha256, joinerSigned.hashes.sha256);
  assert.deepEqual(Object.keys(both.signatures).sort(), ['alice.org', 'bob.org']);
  assert.equal(failure(verifyEventSignatures(both, version, lookup(keys))), 'ok');
});

test('third-party invites need a valid signature from some server, not necessarily the sender’s', () => {
  const version = v('10');
  const keys: KeyTable = { 'alice.org': { [ALICE.keyId]: verifyKeyOf(ALICE) }, 'bob.org': { [BOB.keyId]: verifyKeyOf(BOB) } };
  const invite = baseEvent(version, {
    type: 'm.room.member',
    state_key: '@c:carol.org',
    content: { membership: 'invite', third_party_invite: { signed: { mxid: '@c:carol.org', token: 't' } } },
  });
  assert.equal(failure(verifyEventSignatures(hashAndSignEvent(invite, 'bob.org', BOB, version), version, lookup(keys))), 'ok');
  assert.match(failure(verifyEventSignatures(invite, version, lookup(keys))) ?? '', /^no valid signature from any server/);
});

test('v1/v2 events created by another server need its signature too', () => {
  const version = v('1');
  const keys: KeyTable = { 'alice.org': { [ALICE.keyId]: verifyKeyOf(ALICE) }, 'bob.org': { [BOB.keyId]: verifyKeyOf(BOB) } };
  const ev = hashAndSignEvent(baseEvent(version, { event_id: '$x:bob.org' }), 'alice.org', ALICE, version);
  assert.match(failure(verifyEventSignatures(ev, version, lookup(keys))) ?? '', /^no valid signature from bob.org/);
  const both = hashAndSignEvent(ev, 'bob.org', BOB, version);
  assert.equal(failure(verifyEventSignatures(both, version, lookup(keys))), 'ok');
});

test('verifyEventSignatures never throws on malformed events', () => {
  const keys = lookup({ 'alice.org': { [ALICE.keyId]: verifyKeyOf(ALICE) } });
  const junk: unknown[] = [
    { sender: '@a:alice.org' },
    { sender: '@a:alice.org', signatures: 'x', content: null },
    { sender: '@a:alice.org', signatures: { 'alice.org': { [ALICE.keyId]: 5 } } },
    { sender: '@a:alice.org', content: { n: 1.5 }, signatures: { 'alice.org': { [ALICE.keyId]: 'AAAA' } } },
    { sender: 5 },
  ];
  for (const version of knownRoomVersions()) {
    for (const j of junk) {
      const r = verifyEventSignatures(j as Pdu, version, keys);
      assert.equal(r.ok, false);
    }
  }
});
