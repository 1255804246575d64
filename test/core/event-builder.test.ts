import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeBase64Url } from '../../src/core/base64.js';
import { type EventTemplate, buildEvent } from '../../src/core/event-builder.js';
import { toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import { checkContentHash, referenceHash } from '../../src/core/event-hashes.js';
import { verifyEventSignatures } from '../../src/core/event-signing.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { type RoomVersion, getRoomVersion, knownRoomVersions } from '../../src/rooms/versions.js';

function v(id: string): RoomVersion {
  const r = getRoomVersion(id);
  if (r === undefined) throw new Error(`unknown version ${id}`);
  return r;
}

const KEY = generateSigningKey('k1');
const keyFor = (server: string, keyId: string) =>
  server === 'hs.example' && keyId === KEY.keyId ? { keyId: KEY.keyId, publicKey: KEY.publicKey } : undefined;

function template(extra: Partial<EventTemplate> = {}): EventTemplate {
  return {
    type: 'm.room.message',
    sender: '@alice:hs.example',
    content: { msgtype: 'm.text', body: 'hello' },
    roomId: '!room:hs.example',
    prevEvents: ['$prev'],
    authEvents: ['$create', '$member'],
    depth: 4,
    originServerTs: 1_700_000_000_000,
    ...extra,
  };
}

test('built events are valid, correctly hashed and signed in every room version', () => {
  for (const version of knownRoomVersions()) {
    const { pdu, event } = buildEvent(template(), version, 'hs.example', KEY);
    const checked = validatePdu(pdu, version);
    assert.ok(checked.ok, checked.ok ? '' : checked.reason);
    assert.ok(checkContentHash(pdu));
    assert.deepEqual(verifyEventSignatures(pdu, version, keyFor), { ok: true, value: true });
    assert.deepEqual(event, toRoomEvent(pdu, version));
    assert.equal(event.roomId, '!room:hs.example');
    assert.deepEqual(event.prevEventIds, ['$prev']);
    assert.deepEqual(event.authEventIds, ['$create', '$member']);
    assert.equal(pdu.unsigned, undefined);
    assert.equal(pdu.origin, undefined);
  }
});

test('v1/v2: server-assigned event IDs and [id, {sha256}] references', () => {
  for (const id of ['1', '2']) {
    const hashes: Record<string, string> = { $prev: 'cHJldmhhc2g', $create: 'Y3JlYXRl' };
    const a = buildEvent(template(), v(id), 'hs.example', KEY, (e) => hashes[e]);
    const b = buildEvent(template(), v(id), 'hs.example', KEY, (e) => hashes[e]);
    assert.match(a.pdu.event_id ?? '', /^\$[A-Za-z0-9]{24}:hs\.example$/);
    assert.notEqual(a.pdu.event_id, b.pdu.event_id);
    assert.equal(a.event.eventId, a.pdu.event_id);
    assert.deepEqual(a.pdu.prev_events, [['$prev', { sha256: 'cHJldmhhc2g' }]]);
    assert.deepEqual(a.pdu.auth_events, [
      ['$create', { sha256: 'Y3JlYXRl' }],
      ['$member', {}],
    ]);
    const noLookup = buildEvent(template(), v(id), 'hs.example', KEY);
    assert.deepEqual(noLookup.pdu.prev_events, [['$prev', {}]]);
  }
});

test('v3+: plain references, no event_id, ID from the reference hash', () => {
  for (const version of knownRoomVersions().filter((x) => !x.eventRefsWithHashes)) {
    const { pdu, event } = buildEvent(template(), version, 'hs.example', KEY);
    assert.equal(pdu.event_id, undefined);
    assert.deepEqual(pdu.prev_events, ['$prev']);
    if (version.eventIdFormat === 'reference-hash-urlsafe') assert.equal(event.eventId, '$' + encodeBase64Url(referenceHash(pdu, version)));
    assert.match(event.eventId, version.eventIdFormat === 'reference-hash' ? /^\$[A-Za-z0-9+/]{43}$/ : /^\$[A-Za-z0-9_-]{43}$/);
  }
});

test('state events carry their state_key; redactions put redacts where the version keeps it', () => {
  const state = buildEvent(template({ type: 'm.room.topic', stateKey: '', content: { topic: 't' } }), v('10'), 'hs.example', KEY);
  assert.equal(state.pdu.state_key, '');
  assert.equal(state.event.stateKey, '');
  const msg = buildEvent(template(), v('10'), 'hs.example', KEY);
  assert.equal('state_key' in msg.pdu, false);

  for (const version of knownRoomVersions()) {
    const content = { reason: 'spam' };
    const { pdu, event } = buildEvent(template({ type: 'm.room.redaction', content, redacts: '$bad' }), version, 'hs.example', KEY);
    assert.equal(event.redacts, '$bad');
    if (version.redactsInContent) {
      assert.equal(pdu.redacts, undefined);
      assert.deepEqual(pdu.content, { reason: 'spam', redacts: '$bad' });
    } else {
      assert.equal(pdu.redacts, '$bad');
      assert.deepEqual(pdu.content, { reason: 'spam' });
    }
    assert.deepEqual(content, { reason: 'spam' }, 'the template is not modified');
  }
});

test('v12 create event: no room_id, the room ID is derived from the event', () => {
  const v12 = v('12');
  const { pdu, event } = buildEvent(
    template({ type: 'm.room.create', stateKey: '', content: { room_version: '12' }, roomId: undefined, prevEvents: [], authEvents: [], depth: 1 }),
    v12,
    'hs.example',
    KEY,
  );
  assert.equal('room_id' in pdu, false);
  assert.equal(event.roomId, '!' + event.eventId.slice(1));
  assert.ok(validatePdu(pdu, v12).ok);
  // A roomId passed for a v12 create event is ignored, not written.
  const ignored = buildEvent(
    template({ type: 'm.room.create', stateKey: '', content: { room_version: '12' }, prevEvents: [], authEvents: [], depth: 1 }),
    v12,
    'hs.example',
    KEY,
  );
  assert.equal('room_id' in ignored.pdu, false);

  // The next event lives in that room.
  const next = buildEvent(template({ roomId: event.roomId, prevEvents: [event.eventId], authEvents: [] }), v12, 'hs.example', KEY);
  assert.equal(next.pdu.room_id, event.roomId);
  // Before v12, create events keep their room_id.
  const v11 = buildEvent(template({ type: 'm.room.create', stateKey: '', content: {}, prevEvents: [], authEvents: [] }), v('11'), 'hs.example', KEY);
  assert.equal(v11.pdu.room_id, '!room:hs.example');
  assert.throws(() => buildEvent(template({ roomId: undefined }), v12, 'hs.example', KEY), /needs a roomId/);
});
