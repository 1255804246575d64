import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { encodeBase64, encodeBase64Url } from '../../src/core/base64.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { MAX_PDU_BYTES, toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import type { Pdu } from '../../src/core/pdu.js';
import { type RoomVersion, getRoomVersion, knownRoomVersions } from '../../src/rooms/versions.js';

function v(id: string): RoomVersion {
  const r = getRoomVersion(id);
  if (r === undefined) throw new Error(`unknown version ${id}`);
  return r;
}

type Raw = Record<string, unknown>;

/** A well-formed PDU in the version's format (signatures are not checked by validatePdu). */
function sample(version: RoomVersion, extra: Raw = {}): Raw {
  const ref = (id: string) => (version.eventRefsWithHashes ? [id, { sha256: 'aGFzaA' }] : id);
  const ev: Raw = {
    type: 'm.room.message',
    room_id: '!room:example.org',
    sender: '@alice:example.org',
    origin_server_ts: 1700000000000,
    content: { msgtype: 'm.text', body: 'hi' },
    prev_events: [ref('$prev:example.org')],
    auth_events: [ref('$create:example.org'), ref('$pl:example.org')],
    depth: 5,
    hashes: { sha256: 'c29tZWhhc2g' },
    signatures: { 'example.org': { 'ed25519:a': 'c2ln' } },
    unsigned: { age: 10 },
  };
  if (version.eventIdFormat === 'server-assigned') ev.event_id = '$abc:example.org';
  return { ...ev, ...extra };
}

function reasonOf(raw: unknown, version: RoomVersion): string {
  const r = validatePdu(raw, version);
  assert.equal(r.ok, false, `expected ${JSON.stringify(raw)?.slice(0, 200)} to be invalid in v${version.id}`);
  return r.ok ? '' : r.reason;
}

function assertValid(raw: unknown, version: RoomVersion): Pdu {
  const r = validatePdu(raw, version);
  assert.ok(r.ok, r.ok ? '' : `v${version.id}: ${r.reason}`);
  return r.value;
}

test('well-formed events are accepted in every room version', () => {
  for (const version of knownRoomVersions()) {
    const raw = sample(version);
    assert.equal(assertValid(raw, version), raw);
    assertValid(sample(version, { type: 'm.room.topic', state_key: '', content: { topic: 't' } }), version);
  }
});

test('missing required fields are named', () => {
  for (const version of [v('1'), v('3'), v('11'), v('12')]) {
    for (const field of ['type', 'sender', 'origin_server_ts', 'content', 'depth', 'hashes', 'signatures', 'prev_events', 'auth_events', 'room_id']) {
      const raw = sample(version);
      delete raw[field];
      assert.match(reasonOf(raw, version), new RegExp(`^${field} `), `${field} in v${version.id}`);
    }
  }
});

test('wrongly typed fields are rejected with the field in the reason', () => {
  const v9 = v('9');
  const cases: Array<[Raw, RegExp]> = [
    [{ type: 5 }, /^type must be a string/],
    [{ sender: ['@a:b'] }, /^sender must be a string/],
    [{ sender: 'alice:example.org' }, /^sender must start with '@'/],
    [{ sender: '@alice' }, /^sender must have a server name/],
    [{ room_id: '#alias:example.org' }, /^room_id must start with '!'/],
    [{ state_key: 7 }, /^state_key must be a string/],
    [{ content: 'text' }, /^content must be an object/],
    [{ content: [] }, /^content must be an object/],
    [{ origin_server_ts: '1' }, /^origin_server_ts must be an integer/],
    [{ depth: '5' }, /^depth must be an integer/],
    [{ depth: -1 }, /^depth must not be negative/],
    [{ hashes: { sha256: 1 } }, /^hashes.sha256 must be a string/],
    [{ hashes: {} }, /^hashes.sha256 must be a string/],
    [{ signatures: { 'example.org': 'sig' } }, /^signatures.example.org must be an object/],
    [{ signatures: { 'example.org': { 'ed25519:a': 1 } } }, /^signatures.example.org.ed25519:a must be a string/],
    [{ unsigned: 'x' }, /^unsigned must be an object/],
    [{ redacts: 5 }, /^redacts must be a string/],
    [{ prev_events: '$a' }, /^prev_events must be an array/],
  ];
  for (const [patch, re] of cases) assert.match(reasonOf(sample(v9, patch), v9), re);
  // A float depth is not an integer even in versions that tolerate non-canonical JSON.
  assert.match(reasonOf(sample(v('1'), { depth: 1.5 }), v('1')), /^depth must be an integer/);
  assert.match(reasonOf(sample(v('1'), { origin_server_ts: 1.5 }), v('1')), /^origin_server_ts must be an integer/);
});

test('prev_events/auth_events: pairs in v1/v2, plain event IDs from v3', () => {
  for (const id of ['1', '2']) {
    const version = v(id);
    assert.match(reasonOf(sample(version, { prev_events: ['$a:x'] }), version), /prev_events\[0\] must be an \[event_id, hashes\] pair/);
    assert.match(reasonOf(sample(version, { auth_events: [['$a:x']] }), version), /auth_events\[0\] must be an \[event_id, hashes\] pair/);
    assert.match(reasonOf(sample(version, { auth_events: [[5, {}]] }), version), /auth_events\[0\]\[0\] must be an event ID/);
    assert.match(reasonOf(sample(version, { auth_events: [['$a:x', 'h']] }), version), /auth_events\[0\]\[1\] must be an object/);
    assertValid(sample(version, { prev_events: [['$a:x', {}]] }), version);
  }
  for (const version of knownRoomVersions().filter((x) => !x.eventRefsWithHashes)) {
    assert.match(reasonOf(sample(version, { prev_events: [['$a', { sha256: 'x' }]] }), version), /prev_events\[0\] must be an event ID string/);
    assert.match(reasonOf(sample(version, { auth_events: ['a'] }), version), /auth_events\[0\] must be an event ID string/);
  }
});

test('reference count limits: 20 prev_events, 10 auth_events', () => {
  const v4 = v('4');
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `$e${i}`);
  assertValid(sample(v4, { prev_events: ids(20), auth_events: ids(10) }), v4);
  assert.match(reasonOf(sample(v4, { prev_events: ids(21) }), v4), /prev_events has 21 entries, more than 20/);
  assert.match(reasonOf(sample(v4, { auth_events: ids(11) }), v4), /auth_events has 11 entries, more than 10/);
});

test('event_id: required (with a server name) in v1/v2, optional and ignored later', () => {
  for (const id of ['1', '2']) {
    const raw = sample(v(id));
    delete raw.event_id;
    assert.match(reasonOf(raw, v(id)), /^event_id must be a string/);
    assert.match(reasonOf(sample(v(id), { event_id: '$noserver' }), v(id)), /^event_id must have a server name/);
    assert.match(reasonOf(sample(v(id), { event_id: 'abc:x' }), v(id)), /^event_id must start with '\$'/);
  }
  const v3 = v('3');
  assertValid(sample(v3, { event_id: '$whatever' }), v3);
  assert.match(reasonOf(sample(v3, { event_id: 7 }), v3), /^event_id must be a string/);
});

test('room_id may only be absent on a v12 create event', () => {
  const create = (version: RoomVersion) => {
    const raw = sample(version, { type: 'm.room.create', state_key: '', content: { room_version: version.id }, prev_events: [], auth_events: [] });
    delete raw.room_id;
    return raw;
  };
  assertValid(create(v('12')), v('12'));
  assert.match(reasonOf(create(v('11')), v('11')), /^room_id must be a string/);
  const message = sample(v('12'));
  delete message.room_id;
  assert.match(reasonOf(message, v('12')), /^room_id must be a string/);
  // A v12 create event *with* a room_id is well-formed; the auth rules reject it.
  assertValid(sample(v('12'), { type: 'm.room.create', state_key: '', content: {} }), v('12'));
});

test('size limits: whole event 65536 bytes of canonical JSON, IDs/type/state_key 255 bytes', () => {
  const v10 = v('10');
  // Pad the body so the signed part (everything but `unsigned`) is exactly at the limit.
  const base = sample(v10, { content: { body: '' } });
  const { unsigned: _u, ...signedPart } = base;
  const overhead = Buffer.byteLength(canonicalJson(signedPart));
  const atLimit = sample(v10, { content: { body: 'x'.repeat(MAX_PDU_BYTES - overhead) } });
  assertValid(atLimit, v10);
  const over = sample(v10, { content: { body: 'x'.repeat(MAX_PDU_BYTES - overhead + 1) } });
  assert.match(reasonOf(over, v10), /^event is 65537 bytes, more than 65536/);
  // Multi-byte characters count in bytes, not UTF-16 units.
  const overMb = sample(v10, { content: { body: 'é'.repeat((MAX_PDU_BYTES - overhead) / 2 + 1) } });
  assert.match(reasonOf(overMb, v10), /more than 65536/);
  // `unsigned` is not part of the signed event and does not count.
  assertValid({ ...atLimit, unsigned: { big: 'y'.repeat(70000) } }, v10);

  const sized = (n: number, prefix: string, suffix: string) => prefix + 'a'.repeat(n - prefix.length - suffix.length) + suffix;
  const at255 = (prefix: string, suffix: string) => sized(255, prefix, suffix);
  const at256 = (prefix: string, suffix: string) => sized(256, prefix, suffix);
  assertValid(sample(v10, { sender: at255('@', ':example.org') }), v10);
  assert.match(reasonOf(sample(v10, { sender: at256('@', ':example.org') }), v10), /^sender is longer than 255 bytes/);
  assertValid(sample(v10, { room_id: at255('!', ':example.org') }), v10);
  assert.match(reasonOf(sample(v10, { room_id: at256('!', ':example.org') }), v10), /^room_id is longer than 255 bytes/);
  assertValid(sample(v10, { type: 't'.repeat(255) }), v10);
  assert.match(reasonOf(sample(v10, { type: 't'.repeat(256) }), v10), /^type is longer than 255 bytes/);
  assertValid(sample(v10, { state_key: 's'.repeat(255) }), v10);
  assert.match(reasonOf(sample(v10, { state_key: 'é'.repeat(128) }), v10), /^state_key is longer than 255 bytes/);
  const v1 = v('1');
  assertValid(sample(v1, { event_id: at255('$', ':example.org') }), v1);
  assert.match(reasonOf(sample(v1, { event_id: at256('$', ':example.org') }), v1), /^event_id is longer than 255 bytes/);
});

test('strict canonical JSON from v6: floats and out-of-range integers reject the event', () => {
  const cases: Raw[] = [
    { content: { n: 1.5 } },
    { content: { n: 2 ** 53 } },
    { content: { nested: [{ n: -(2 ** 53) }] } },
    { depth: 2 ** 53 },
    { origin_server_ts: 2 ** 60 },
  ];
  for (const patch of cases) {
    for (const version of knownRoomVersions()) {
      const raw = sample(version, patch);
      if (version.strictCanonicalJson) {
        assert.match(reasonOf(raw, version), /^not canonical JSON/, `v${version.id} ${JSON.stringify(patch)}`);
      } else if (patch.content !== undefined) {
        assertValid(raw, version);
      }
    }
  }
  // v1–v5 still accept big integer depths (up to 2^63 - 1) the way the v1 schema allows.
  assertValid(sample(v('5'), { depth: 2 ** 60 }), v('5'));
  assert.match(reasonOf(sample(v('6'), { depth: 2 ** 60 }), v('6')), /^not canonical JSON/);
});

/** Tiny deterministic PRNG so the fuzz test is reproducible. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

test('garbage never throws and is always rejected with a reason', () => {
  let deep: unknown = [];
  for (let i = 0; i < 100000; i++) deep = [deep];
  let deepObj: Raw = {};
  for (let i = 0; i < 100000; i++) deepObj = { a: deepObj };
  const cyclic: Raw = sample(v('10'));
  (cyclic.content as Raw).self = cyclic;
  const wide: Raw = {};
  const shared = { a: [1, 2, 3] };
  let layer: unknown = shared;
  for (let i = 0; i < 60; i++) layer = { l: layer, r: layer };
  wide.content = layer;
  const throwing = sample(v('10'));
  Object.defineProperty(throwing, 'content', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  class Evil {
    type = 'm.room.message';
  }
  const garbage: unknown[] = [
    null,
    undefined,
    0,
    42,
    Number.NaN,
    'event',
    'x'.repeat(1_000_000),
    true,
    [],
    [sample(v('10'))],
    {},
    { type: null },
    deep,
    { content: deep },
    deepObj,
    cyclic,
    wide,
    throwing,
    new Evil(),
    new Map([['type', 'x']]),
    new Date(),
    Object.create(null),
    sample(v('10'), { content: { big: BigInt(1) } }),
    sample(v('10'), { content: { f: () => 1 } }),
    sample(v('10'), { content: { u: undefined } }),
    sample(v('10'), { content: { s: Symbol('x') } }),
    sample(v('4'), { content: { n: Number.POSITIVE_INFINITY } }),
    sample(v('10'), { content: { date: new Date() } }),
    sample(v('10'), { sender: 'x'.repeat(1_000_000) }),
  ];
  for (const version of knownRoomVersions()) {
    for (const g of garbage) {
      const r = validatePdu(g, version);
      assert.equal(r.ok, false);
      assert.equal(typeof (r as { reason: unknown }).reason, 'string');
    }
  }

  // Random mutations of a valid event: every outcome is a ValidationResult, never an exception.
  const rand = prng(1234);
  const junk = (): unknown => {
    const pool: unknown[] = [null, 1, -1, 1.5, 2 ** 60, '', '$x', '@a:b', '!r:b', [], {}, [['$a', {}]], ['$a'], { sha256: 'x' }, true, 'é'.repeat(300)];
    return pool[Math.floor(rand() * pool.length)];
  };
  const fields = ['type', 'room_id', 'sender', 'origin_server_ts', 'content', 'state_key', 'prev_events', 'auth_events', 'depth', 'hashes', 'signatures', 'unsigned', 'redacts', 'event_id', 'extra'];
  for (let i = 0; i < 3000; i++) {
    const version = knownRoomVersions()[Math.floor(rand() * 12)];
    const raw = sample(version);
    const n = 1 + Math.floor(rand() * 3);
    for (let j = 0; j < n; j++) {
      const f = fields[Math.floor(rand() * fields.length)];
      if (rand() < 0.3) delete raw[f];
      else raw[f] = junk();
    }
    const r = validatePdu(raw, version);
    assert.ok(r.ok === true || typeof r.reason === 'string');
  }
});

function sha256b(s: string): Uint8Array {
  return createHash('sha256').update(Buffer.from(s, 'utf8')).digest();
}

test('toRoomEvent: v1/v2 IDs are carried, v3 std base64, v4+ URL-safe base64 of the reference hash', () => {
  const ev1 = assertValid(sample(v('1')), v('1'));
  const e1 = toRoomEvent(ev1, v('1'));
  assert.equal(e1.eventId, '$abc:example.org');
  assert.deepEqual(e1.prevEventIds, ['$prev:example.org']);
  assert.deepEqual(e1.authEventIds, ['$create:example.org', '$pl:example.org']);
  assert.equal(e1.roomId, '!room:example.org');
  assert.equal(e1.pdu, ev1);

  // Find an event whose reference hash has '+' or '/' so the alphabets visibly differ.
  for (let depth = 1; ; depth++) {
    const raw = sample(v('3'), { depth, content: { body: 'hi', msgtype: 'm.text' } });
    // The redacted form, spelled out: a message keeps no content; unsigned and signatures are dropped.
    const redacted = {
      type: raw.type,
      room_id: raw.room_id,
      sender: raw.sender,
      origin_server_ts: raw.origin_server_ts,
      content: {},
      prev_events: raw.prev_events,
      auth_events: raw.auth_events,
      depth,
      hashes: raw.hashes,
    };
    const hash = sha256b(canonicalJson(redacted));
    const std = encodeBase64(hash);
    if (!/[+/]/.test(std)) continue;
    const e3 = toRoomEvent(assertValid(raw, v('3')), v('3'));
    assert.equal(e3.eventId, '$' + std);
    for (const id of ['4', '5', '6', '7', '8', '9', '10']) {
      assert.equal(toRoomEvent(assertValid(raw, v(id)), v(id)).eventId, '$' + encodeBase64Url(hash));
    }
    // v11 redaction also drops nothing else here (no origin/membership), so the ID is unchanged.
    assert.equal(toRoomEvent(assertValid(raw, v('11')), v('11')).eventId, '$' + encodeBase64Url(hash));
    assert.equal(e3.depth, depth);
    assert.equal(e3.originServerTs, raw.origin_server_ts);
    assert.equal(e3.stateKey, undefined);
    break;
  }
});

test('toRoomEvent: v12 create event derives the room ID from its own reference hash', () => {
  const v12 = v('12');
  const raw = sample(v12, {
    type: 'm.room.create',
    state_key: '',
    content: { room_version: '12', additional_creators: ['@bob:example.org'] },
    prev_events: [],
    auth_events: [],
    depth: 1,
  });
  delete raw.room_id;
  const e = toRoomEvent(assertValid(raw, v12), v12);
  const { unsigned: _u, signatures: _s, ...redacted } = raw;
  const expectedHash = encodeBase64Url(sha256b(canonicalJson(redacted)));
  assert.equal(e.eventId, '$' + expectedHash);
  assert.equal(e.roomId, '!' + expectedHash);
  assert.equal(e.stateKey, '');
  // Other v12 events keep their room_id.
  assert.equal(toRoomEvent(assertValid(sample(v12, { room_id: e.roomId }), v12), v12).roomId, e.roomId);
});

test('toRoomEvent: redacts is top-level before v11, in content from v11', () => {
  for (const version of knownRoomVersions()) {
    const raw = sample(version, { type: 'm.room.redaction', redacts: '$top', content: { redacts: '$inner', reason: 'r' } });
    const e = toRoomEvent(assertValid(raw, version), version);
    assert.equal(e.redacts, version.redactsInContent ? '$inner' : '$top', `v${version.id}`);
    const notRedaction = sample(version, { redacts: '$top', content: { redacts: '$inner' } });
    assert.equal(toRoomEvent(assertValid(notRedaction, version), version).redacts, undefined);
  }
  const v11 = v('11');
  const noTarget = sample(v11, { type: 'm.room.redaction', content: { redacts: 5 } });
  assert.equal(toRoomEvent(assertValid(noTarget, v11), v11).redacts, undefined);
});
