import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { redactedEventBytes } from '../../src/core/event-hashes.js';
import { toRoomEvent } from '../../src/core/event-format.js';
import type { JsonObject } from '../../src/core/json.js';
import type { Pdu } from '../../src/core/pdu.js';
import { signBytes } from '../../src/core/signing.js';
import { LocalKeyRing } from '../../src/room-engine/key-ring.js';
import { importOutliers } from '../../src/room-engine/outlier-import.js';
import { inlineVerifier, type SignatureJob, SignatureVerifierPool } from '../../src/room-engine/signature-verifier.js';
import { getRoomVersion } from '../../src/rooms/versions.js';
import { makeEngine } from './engine-fixture.js';

const version = getRoomVersion('12')!;
const pool = new SignatureVerifierPool(2);
after(() => pool.close());

/** A room on one server with `members` joined users, and its state as PDUs. */
async function roomState(members: number) {
  const a = makeEngine('hs');
  const roomId = await a.createRoom('@alice:hs', { preset: 'public_chat' });
  for (let i = 0; i < members; i++) {
    const user = `@u${i}:hs`;
    const r = await a.creator.send(roomId, { type: 'm.room.member', stateKey: user, sender: user, content: { membership: 'join', displayname: `u${i}` } });
    assert.ok(r.ok);
  }
  const state = await a.store.getEvents([...(await a.store.getCurrentState(roomId)).values()]);
  return { a, roomId, pdus: [...state.values()].map((s) => s.event.pdu) };
}

function clone(p: Pdu): Pdu {
  return JSON.parse(JSON.stringify(p)) as Pdu;
}

test('the worker pool gives the same answers as checking inline, including for malformed jobs', async () => {
  const { a } = await roomState(0);
  const jobs: SignatureJob[] = [];
  for (let i = 0; i < 1200; i++) {
    const message = Buffer.from(`message ${i}`);
    let signature = signBytes(message, a.key);
    if (i % 7 === 0) signature = signBytes(Buffer.from('something else'), a.key);
    if (i % 101 === 0) signature = signature.subarray(0, 10);
    jobs.push({ message, signature, publicKey: i % 13 === 0 ? new Uint8Array(32) : a.key.publicKey });
  }
  const expected = await inlineVerifier.verifyAll(jobs);
  assert.ok(expected.includes(true) && expected.includes(false));
  assert.deepEqual(await pool.verifyAll(jobs), expected);
  assert.deepEqual(await pool.verifyAll(jobs.slice(0, 10)), expected.slice(0, 10), 'small batches are checked inline');
});

test('a large import checks every signature: badly signed events are dropped, tampered content is redacted, the rest stored', async () => {
  const { a, pdus } = await roomState(700);
  const members = pdus.filter((p) => p.type === 'm.room.member' && p.state_key !== '@alice:hs');
  // A signature over other bytes: dropped.
  const badSig = clone(members[10]);
  badSig.signatures = { hs: { [a.key.keyId]: Buffer.from(signBytes(Buffer.from('x'), a.key)).toString('base64').replace(/=+$/, '') } };
  // Content changed after signing, hashes left alone: the signature (over the redacted form) holds, the content hash does not.
  const tampered = clone(members[20]);
  (tampered.content as JsonObject).displayname = 'someone else';
  // Signed by a key the key ring does not know: dropped.
  const unknownKey = clone(members[30]);
  unknownKey.signatures = { hs: { 'ed25519:other': 'AAAA' } };
  const raws: unknown[] = pdus.map((p) => {
    if (p === members[10]) return badSig;
    if (p === members[20]) return tampered;
    if (p === members[30]) return unknownKey;
    return p;
  });

  for (const verifier of [pool, inlineVerifier]) {
    const b = makeEngine('hs2');
    const result = await importOutliers(b.store, new LocalKeyRing('hs', [a.key]), version, raws, {
      newRoom: { creator: '@alice:hs' },
      verifier,
    });
    const dropped = new Map(result.dropped.map((d) => [d.eventId, d.reason]));
    const idOf = (p: Pdu) => toRoomEvent(p, version, { redactedBytes: redactedEventBytes(p, version) }).eventId;
    assert.match(dropped.get(idOf(badSig)) ?? '', /bad signature from hs/);
    assert.match(dropped.get(idOf(unknownKey)) ?? '', /no valid signature from hs/);
    assert.equal(result.dropped.length, 2);
    const stored = await b.store.getEvent(idOf(tampered));
    assert.ok(stored, 'the tampered event is kept, redacted');
    assert.equal(stored.event.content.displayname, undefined);
    assert.equal(stored.event.content.membership, 'join');
    assert.equal(result.events.size, pdus.length - 2);
    assert.equal(result.rejected.size, 0);
    for (const p of pdus.slice(0, 50)) {
      if (p === members[10] || p === members[30]) continue;
      assert.ok(await b.store.getEvent(idOf(p)), `stored ${p.type} ${p.state_key}`);
    }
  }
});

test('the shared pool keeps a process alive while it works and lets it exit when idle', () => {
  const url = new URL('../../src/room-engine/signature-verifier.js', import.meta.url).href;
  const script = `
    const { sharedSignatureVerifier } = await import(${JSON.stringify(url)});
    const jobs = Array.from({ length: 2000 }, () => ({ message: new Uint8Array(8), signature: new Uint8Array(64), publicKey: new Uint8Array(32) }));
    const r = await sharedSignatureVerifier().verifyAll(jobs);
    console.log(r.length);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.signal, null, 'the process exited by itself');
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), '2000');
});

test('events checked on the workers get the same verdicts as inline, and input that cannot be cloned is checked inline', async () => {
  const { a, pdus } = await roomState(300);
  const keys = new Map([[`hs\u0000${a.key.keyId}`, { keyId: a.key.keyId, publicKey: a.key.publicKey }]]);
  const tampered = clone(pdus[5]);
  (tampered.content as JsonObject).extra = 'x';
  const badSig = clone(pdus[6]);
  badSig.signatures = { hs: { [a.key.keyId]: 'AAAA' } };
  const raws: unknown[] = [...pdus, tampered, badSig, { type: 'nonsense' }, 'not an object'];
  const inline = await inlineVerifier.checkEvents(version, raws, keys);
  assert.deepEqual(await pool.checkEvents(version, raws, keys), inline);
  assert.equal(inline.filter((r) => r.ok).length, pdus.length + 1);
  assert.deepEqual(inline.filter((r) => r.ok && !r.contentHashOk).length, 1);
  const withFunction = [...raws, { ...clone(pdus[0]), content: { f: () => 1 } }];
  const fallback = await pool.checkEvents(version, withFunction, keys);
  assert.deepEqual(fallback.slice(0, raws.length), inline);
  assert.equal(fallback[raws.length].ok, false);
});
