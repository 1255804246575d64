/**
 * Forged input over `PUT /send` between real server processes: hs1's key is used (as a
 * misbehaving hs1 would) to send hs2 one transaction that mixes a good PDU with a badly signed
 * one, one whose content does not match its hash, one that breaks the auth rules and one whose
 * sender is not from the transaction's origin; and a transaction whose X-Matrix header names
 * another destination. Each is handled as the spec says, the good PDU is not lost, and hs2 logs why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildEvent } from '../src/core/event-builder.js';
import type { JsonObject } from '../src/core/json.js';
import type { Pdu } from '../src/core/pdu.js';
import { generateSigningKey, type SigningKey } from '../src/core/signing.js';
import { getRoomVersion, type RoomVersion } from '../src/rooms/versions.js';
import { api, type TestUser } from './harness/client.js';
import { type Federation, signedFedRequest, startPair } from './harness/federation.js';
import { messageBodies, roomState, sendText, waitFor } from './harness/room-helpers.js';
import { type TestServer, waitForLogs } from './harness/server.js';

const enc = encodeURIComponent;

describe('forged input over /send', () => {
  let fed: Federation;
  let hs1: TestServer;
  let hs2: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;

  before(async () => {
    ({ fed, hs1, hs2, alice, bob } = await startPair());
    const created = await api(hs1, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat', room_alias_name: 'forge' },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id;
    const j = await api(hs2, 'POST', `/_matrix/client/v3/join/${enc('#forge:hs1.test')}`, { token: bob.accessToken, body: {} });
    assert.equal(j.status, 200, JSON.stringify(j.body));
  });
  after(async () => {
    await fed?.close();
  });

  /** Builds a message on top of hs2's latest event, signed as `server` with `key`. */
  async function forge(sender: string, body: string, opts: { key?: SigningKey; member?: boolean } = {}): Promise<Pdu> {
    const state = await roomState(hs2, bob, roomId);
    const create = state.get('m.room.create|');
    assert.ok(create);
    const version = getRoomVersion(String(create.content.room_version ?? '1')) as RoomVersion;
    const latest = await api(hs2, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages`, { token: bob.accessToken, query: { dir: 'b', limit: '1' } });
    const prevId: string = latest.body.chunk[0].event_id;
    const prev = await signedFedRequest(fed, fed.get('hs1.test'), fed.get('hs2.test'), 'GET', `/_matrix/federation/v1/event/${enc(prevId)}`);
    const prevPdu = (prev.body.pdus as JsonObject[])[0];
    const auth = [state.get('m.room.power_levels|')!.event_id];
    const member = state.get(`m.room.member|${sender}`);
    if (opts.member !== false && member) auth.push(member.event_id);
    if (!version.roomIdFromCreateEvent) auth.unshift(create.event_id);
    const hashes = new Map<string, string>();
    const { pdu } = buildEvent(
      {
        type: 'm.room.message',
        sender,
        content: { msgtype: 'm.text', body },
        roomId,
        prevEvents: [prevId],
        authEvents: auth,
        depth: (prevPdu.depth as number) + 1,
        originServerTs: Date.now(),
      },
      version,
      'hs1.test',
      opts.key ?? fed.get('hs1.test').signingKey(),
      (id) => hashes.get(id),
    );
    return pdu;
  }

  const idOf = (pdu: Pdu, version: RoomVersion) => import('../src/core/event-format.js').then((m) => m.toRoomEvent(pdu, version).eventId);

  test('bad signature, bad content hash, auth violation and wrong origin are each handled; the good PDU is kept; hs2 logs why', async () => {
    const version = getRoomVersion(String((await roomState(hs2, bob, roomId)).get('m.room.create|')!.content.room_version)) as RoomVersion;
    const hs1Key = fed.get('hs1.test').signingKey();
    const good = await forge(alice.userId, 'a good PDU among forged ones');
    // Same key ID as hs1's real key, different key: the signature does not verify.
    const badSig = await forge(alice.userId, 'signed with the wrong key', { key: generateSigningKey(hs1Key.keyId.slice('ed25519:'.length)) });
    // Content changed after hashing and signing: the signature (over the redacted event) still holds.
    const badHash = await forge(alice.userId, 'original body');
    badHash.content = { msgtype: 'm.text', body: 'tampered body' };
    // A user who never joined the room.
    const stranger = await forge('@stranger:hs1.test', 'not a member', { member: false });
    // bob is real and in the room, but he belongs to hs2, not to the transaction's origin hs1.
    const spoofed = await forge(bob.userId, 'spoofing bob');

    const ids = {
      good: await idOf(good, version),
      badSig: await idOf(badSig, version),
      badHash: await idOf(badHash, version),
      stranger: await idOf(stranger, version),
      spoofed: await idOf(spoofed, version),
    };
    const txn = { origin: 'hs1.test', origin_server_ts: Date.now(), pdus: [badSig, good, badHash, stranger, spoofed], edus: [] };
    const res = await signedFedRequest(fed, fed.get('hs1.test'), fed.get('hs2.test'), 'PUT', '/_matrix/federation/v1/send/forged-1', txn);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const results = res.body.pdus as Record<string, { error?: string }>;
    assert.deepEqual(results[ids.good], {});
    assert.deepEqual(results[ids.badHash], {}, 'a content hash mismatch redacts the event; it is still accepted');
    for (const k of ['badSig', 'stranger', 'spoofed'] as const) assert.equal(typeof results[ids[k]]?.error, 'string', k);

    const event = (id: string) => api(hs2, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(id)}`, { token: bob.accessToken });
    const g = await event(ids.good);
    assert.equal(g.status, 200);
    assert.equal(g.body.content.body, 'a good PDU among forged ones');
    const h = await event(ids.badHash);
    assert.equal(h.status, 200);
    assert.deepEqual(h.body.content, {}, 'stored redacted');
    for (const k of ['badSig', 'stranger', 'spoofed'] as const) assert.equal((await event(ids[k])).status, 404, k);

    // Log lines are written at the end of the event-loop turn; the transaction's are long done by now,
    // but wait for them rather than assume it.
    await waitForLogs(hs2, (l) => l.msg === 'refused a PDU' && l.eventId === ids.spoofed);
    const logs = hs2.logs();
    const refused = (id: string) => logs.find((l) => l.msg === 'refused a PDU' && l.eventId === id);
    assert.match(String(refused(ids.badSig)?.reason), /signature/i);
    assert.match(String(refused(ids.stranger)?.reason), /join|member/i);
    assert.match(String(refused(ids.spoofed)?.reason), /does not belong to origin hs1\.test/);
    assert.ok(logs.some((l) => l.msg === 'content hash mismatch; processing the PDU redacted' && l.eventId === ids.badHash));
  });

  test('a transaction signed for another destination is refused whole (401) and logged', async () => {
    const pdu = await forge(alice.userId, 'in a misaddressed transaction');
    const version = getRoomVersion(String((await roomState(hs2, bob, roomId)).get('m.room.create|')!.content.room_version)) as RoomVersion;
    const txn = { origin: 'hs1.test', origin_server_ts: Date.now(), pdus: [pdu], edus: [] };
    const res = await signedFedRequest(fed, fed.get('hs1.test'), fed.get('hs2.test'), 'PUT', '/_matrix/federation/v1/send/misaddressed', txn, {
      destination: 'hs3.test',
    });
    assert.equal(res.status, 401);
    assert.equal(res.body.errcode, 'M_UNAUTHORIZED');
    const stored = await api(hs2, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(await idOf(pdu, version))}`, { token: bob.accessToken });
    assert.equal(stored.status, 404);
    assert.ok((await waitForLogs(hs2, (l) => l.msg === 'X-Matrix request for another destination' && l.destination === 'hs3.test')).length > 0);
  });

  test('the room still works both ways after the forgeries', async () => {
    await sendText(hs1, alice, roomId, 'alice after the forgeries');
    await sendText(hs2, bob, roomId, 'bob after the forgeries');
    for (const [s, u] of [
      [hs1, alice],
      [hs2, bob],
    ] as const) {
      await waitFor(`both messages on ${s.serverName}`, async () => {
        const got = await messageBodies(s, u, roomId);
        return got.includes('alice after the forgeries') && got.includes('bob after the forgeries') ? true : undefined;
      });
    }
    // hs1 fetched the good PDU hs2 built on (get_missing_events); the forged ones never reached it.
    const onHs1 = await messageBodies(hs1, alice, roomId);
    assert.ok(onHs1.includes('a good PDU among forged ones'));
    assert.ok(!onHs1.includes('spoofing bob') && !onHs1.includes('not a member'));
  });
  test('an event arriving late on an older branch does not hide newer ones from /messages', async () => {
    // bob's message is stored first; then hs1's event built on an older point of the graph arrives:
    // it is newer by stream order but shallower, and /messages must still start after bob's.
    const older = await forge(alice.userId, 'late, on an older branch');
    await sendText(hs2, bob, roomId, 'bob, deeper in the graph');
    const res = await signedFedRequest(fed, fed.get('hs1.test'), fed.get('hs2.test'), 'PUT', '/_matrix/federation/v1/send/late-branch', {
      origin: 'hs1.test',
      origin_server_ts: Date.now(),
      pdus: [older],
      edus: [],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.values(res.body.pdus as object), [{}]);
    const bodies = await messageBodies(hs2, bob, roomId);
    assert.ok(bodies.includes('bob, deeper in the graph'), JSON.stringify(bodies));
    assert.ok(bodies.includes('late, on an older branch'), JSON.stringify(bodies));
  });
});
