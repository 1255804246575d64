/**
 * History and partitions across three real server processes over TLS:
 * - `/messages` on a server that joined late backfills what came before its join;
 * - hs3 stopped while hs1 and hs2 change power levels and ban someone; back, it catches up;
 * - hs1 and hs2 cut from each other (a loopback relay between them that the test cuts) and hs3
 *   stopped, while hs1 and hs2 make conflicting state changes; after healing all three agree,
 *   and on exactly the state that state resolution (src/core/state-res) gives for the two sides.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toRoomEvent, validatePdu } from '../src/core/event-format.js';
import type { RoomEvent, StateMap } from '../src/core/pdu.js';
import { stateKeyOf } from '../src/core/pdu.js';
import { resolveState } from '../src/core/state-res/index.js';
import { getRoomVersion } from '../src/rooms/versions.js';
import { api, registerUser, type TestUser } from './harness/client.js';
import { type Federation, signedFedRequest, startFederation } from './harness/federation.js';
import { type LinkProxy, startLinkProxy } from './harness/link-proxy.js';
import {
  getStateEvent,
  messageBodies,
  roomState,
  type StateEntry,
  sendText,
  setState,
  stateDigest,
  waitFor,
} from './harness/room-helpers.js';
import { type TestServer, waitForLogs } from './harness/server.js';

const enc = encodeURIComponent;

describe('history, partitions and conflicts across three servers', () => {
  let fed: Federation;
  let link12: LinkProxy;
  let link21: LinkProxy;
  const hs = (n: number): TestServer => fed.get(`hs${n}.test`).server;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let mallory: TestUser;
  let roomId: string;

  before(async () => {
    // hs1 reaches hs2 only through link12 and hs2 reaches hs1 only through link21.
    link12 = await startLinkProxy();
    link21 = await startLinkProxy();
    fed = await startFederation(['hs1.test', 'hs2.test', 'hs3.test'], {
      config: (name) => {
        if (name === 'hs1.test') return { federation: { resolve: { 'hs2.test': `127.0.0.1:${link12.port}` } } };
        if (name === 'hs2.test') return { federation: { resolve: { 'hs1.test': `127.0.0.1:${link21.port}` } } };
        return {};
      },
    });
    link12.setTarget(fed.get('hs2.test').fedPort);
    link21.setTarget(fed.get('hs1.test').fedPort);
    alice = await registerUser(hs(1), 'alice');
    bob = await registerUser(hs(2), 'bob');
    dave = await registerUser(hs(2), 'dave');
    mallory = await registerUser(hs(2), 'mallory');
    carol = await registerUser(hs(3), 'carol');
  });
  after(async () => {
    await fed?.close();
    await link12?.close();
    await link21?.close();
  });

  const allAgree = (what: string, servers: Array<[TestServer, TestUser]>, timeoutMs = 60_000) =>
    waitFor(
      what,
      async () => {
        const digests = await Promise.all(servers.map(async ([s, u]) => stateDigest(await roomState(s, u, roomId))));
        return digests.every((d) => d === digests[0]) ? digests[0] : undefined;
      },
      timeoutMs,
    );

  test('/messages on hs3 backfills the history from before hs3 joined', async () => {
    const created = await api(hs(1), 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat', room_alias_name: 'history', name: 'History' },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id;
    const early = Array.from({ length: 6 }, (_, i) => `early ${i + 1}`);
    for (const b of early) await sendText(hs(1), alice, roomId, b);
    for (const u of [bob, dave, mallory]) {
      const j = await api(hs(2), 'POST', `/_matrix/client/v3/join/${enc('#history:hs1.test')}`, { token: u.accessToken, body: {} });
      assert.equal(j.status, 200, JSON.stringify(j.body));
    }
    await sendText(hs(2), bob, roomId, 'bob was here before carol');
    await waitFor('bob’s message on hs1', async () => ((await messageBodies(hs(1), alice, roomId)).includes('bob was here before carol') ? true : undefined));

    const j3 = await api(hs(3), 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: carol.accessToken, body: {}, query: { via: 'hs1.test' } });
    assert.equal(j3.status, 200, JSON.stringify(j3.body));
    await sendText(hs(3), carol, roomId, 'carol arrives');
    const synced = await api(hs(3), 'GET', '/_matrix/client/v3/sync', { token: carol.accessToken });
    assert.equal(synced.status, 200);

    // hs3 got the room's state at its join, not its timeline: the earlier messages come from /backfill.
    const bodies = await messageBodies(hs(3), carol, roomId);
    assert.deepEqual(bodies, [...early, 'bob was here before carol', 'carol arrives']);
    assert.ok((await waitForLogs(hs(3), (l) => l.msg === 'backfilled room history' && l.roomId === roomId && Number(l.added) > 0)).length > 0);
    // Read again, now from what is stored: the backfilled history sits before carol's message, not after it.
    assert.deepEqual(await messageBodies(hs(3), carol, roomId), [...early, 'bob was here before carol', 'carol arrives']);
    // And /sync does not hand the old events out as new ones.
    const next = await api(hs(3), 'GET', '/_matrix/client/v3/sync', { token: carol.accessToken, query: { since: synced.body.next_batch, timeout: '0' } });
    assert.equal(next.status, 200);
    assert.equal(next.body.rooms?.join?.[roomId]?.timeline?.events?.length ?? 0, 0, JSON.stringify(next.body.rooms?.join?.[roomId]?.timeline));
    // The backfilled part reaches back to the room's creation, in order, with its state events.
    const all = await api(hs(3), 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages`, {
      token: carol.accessToken,
      query: { dir: 'b', limit: '100' },
    });
    const types = (all.body.chunk as Array<{ type: string }>).map((e) => e.type).reverse();
    assert.equal(types[0], 'm.room.create');
    assert.equal(all.body.end, undefined, 'nothing further back');
    // Backfill changed neither the current state nor what hs3 agrees on with the others.
    await allAgree('identical state after backfill', [[hs(1), alice], [hs(2), bob], [hs(3), carol]]);
  });

  test('hs3 stopped: hs1 and hs2 change power levels and ban; hs3 comes back and catches up', async () => {
    await fed.stop('hs3.test');
    const pl = (await getStateEvent(hs(1), alice, roomId, 'm.room.power_levels')) as Record<string, unknown>;
    const users = { ...(pl.users as Record<string, number>), [bob.userId]: 100 };
    await setState(hs(1), alice, roomId, 'm.room.power_levels', '', { ...pl, users });
    await waitFor('bob promoted on hs2', async () => {
      const p = await getStateEvent(hs(2), bob, roomId, 'm.room.power_levels');
      return (p?.users as Record<string, number> | undefined)?.[bob.userId] === 100 ? true : undefined;
    });
    const ban = await api(hs(2), 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/ban`, {
      token: bob.accessToken,
      body: { user_id: dave.userId, reason: 'partition test' },
    });
    assert.equal(ban.status, 200, JSON.stringify(ban.body));
    // More than the sender's catch-up window (10 per room): hs3 must fetch the rest itself.
    const during = Array.from({ length: 14 }, (_, i) => `while hs3 was away ${i + 1}`);
    for (const b of during) await sendText(hs(1), alice, roomId, b);
    await waitFor('the ban on hs1', async () => ((await getStateEvent(hs(1), alice, roomId, 'm.room.member', dave.userId))?.membership === 'ban' ? true : undefined));

    await fed.restart('hs3.test');
    // A message from hs3 tells the others it is back (they end their back-off for it).
    await sendText(hs(3), carol, roomId, 'carol is back');
    await allAgree('identical state after hs3 caught up', [[hs(1), alice], [hs(2), bob], [hs(3), carol]]);

    assert.equal((await getStateEvent(hs(3), carol, roomId, 'm.room.member', dave.userId))?.membership, 'ban');
    const pl3 = await getStateEvent(hs(3), carol, roomId, 'm.room.power_levels');
    assert.equal((pl3?.users as Record<string, number> | undefined)?.[bob.userId], 100);
    await waitFor('every message of the partition on hs3', async () => {
      const got = await messageBodies(hs(3), carol, roomId);
      return during.every((b) => got.includes(b)) ? true : undefined;
    });
    assert.ok(
      (await waitForLogs(hs(1), (l) => l.msg === 'catch-up: sending only the newest events per room' && l.destination === 'hs3.test')).length > 0,
      'hs1 sent hs3 only its newest events after the outage',
    );
  });

  test('conflicting changes on both sides of a partition resolve to the same state everywhere, the one state resolution gives', async () => {
    await fed.stop('hs3.test');
    link12.cut();
    link21.cut();

    // hs1's side: alice bans mallory and sets a topic.
    const banned = await api(hs(1), 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/ban`, {
      token: alice.accessToken,
      body: { user_id: mallory.userId },
    });
    assert.equal(banned.status, 200, JSON.stringify(banned.body));
    await setState(hs(1), alice, roomId, 'm.room.topic', '', { topic: 'topic from hs1' });
    // hs2's side: bob promotes mallory and sets another topic.
    const pl = (await getStateEvent(hs(2), bob, roomId, 'm.room.power_levels')) as Record<string, unknown>;
    await setState(hs(2), bob, roomId, 'm.room.power_levels', '', { ...pl, users: { ...(pl.users as object), [mallory.userId]: 50 } });
    await setState(hs(2), bob, roomId, 'm.room.topic', '', { topic: 'topic from hs2' });

    const side1 = await roomState(hs(1), alice, roomId);
    const side2 = await roomState(hs(2), bob, roomId);
    assert.equal(side1.get(`m.room.member|${mallory.userId}`)?.content.membership, 'ban');
    assert.equal(side2.get(`m.room.member|${mallory.userId}`)?.content.membership, 'join');
    assert.notEqual(stateDigest(side1), stateDigest(side2));

    link12.heal();
    link21.heal();
    const healed = await allAgree('hs1 and hs2 agree after healing', [[hs(1), alice], [hs(2), bob]]);
    await fed.restart('hs3.test');
    await sendText(hs(3), carol, roomId, 'carol after the conflict');
    const final = await allAgree('all three agree after the conflict', [[hs(1), alice], [hs(2), bob], [hs(3), carol]]);
    assert.equal(final, healed);

    // What the spec's state resolution gives for the two sides' states, computed here from the
    // events themselves (fetched over federation, as hs2 reading from hs1).
    const expected = await resolveSides(side1, side2);
    const state = await roomState(hs(3), carol, roomId);
    assert.equal(stateDigest(state), [...expected].map(([k, id]) => `${k.replace('\u0000', '|')}=${id}`).sort().join('\n'));

    // The same, reasoned out: the ban and the promotion touch different state (mallory's member
    // event, the power levels), and each passes the auth rules in either order (alice and bob both
    // have power 100, mallory 0 or 50) — so both stand. For the topic, both topic events are
    // ordered by their closest event on the mainline of the resolved power levels (bob's new
    // event): hs1's topic cites the older power levels, hs2's the new one, so hs2's comes later
    // in the ordering and wins.
    assert.equal(state.get(`m.room.member|${mallory.userId}`)?.content.membership, 'ban');
    assert.equal((state.get('m.room.power_levels|')?.content.users as Record<string, number> | undefined)?.[mallory.userId], 50);
    assert.equal(state.get('m.room.topic|')?.content.topic, 'topic from hs2');
  });

  /** Resolves the two partition sides' states with src/core/state-res over the events and their auth chains. */
  async function resolveSides(a: Map<string, StateEntry>, b: Map<string, StateEntry>): Promise<StateMap> {
    const from = fed.get('hs2.test');
    const to = fed.get('hs1.test');
    const createEntry = a.get('m.room.create|');
    assert.ok(createEntry);
    const version = getRoomVersion(String(createEntry.content.room_version ?? '1'));
    assert.ok(version);
    const events = new Map<string, RoomEvent>();
    const add = (raw: unknown) => {
      const v = validatePdu(raw, version);
      assert.ok(v.ok, v.ok ? '' : v.reason);
      const e = toRoomEvent(v.value, version);
      events.set(e.eventId, e);
    };
    const ids = new Set([...a.values(), ...b.values()].map((e) => e.event_id));
    for (const id of ids) {
      const ev = await signedFedRequest(fed, from, to, 'GET', `/_matrix/federation/v1/event/${enc(id)}`);
      assert.equal(ev.status, 200, JSON.stringify(ev.body));
      add((ev.body.pdus as unknown[])[0]);
      const chain = await signedFedRequest(fed, from, to, 'GET', `/_matrix/federation/v1/event_auth/${enc(roomId)}/${enc(id)}`);
      assert.equal(chain.status, 200, JSON.stringify(chain.body));
      for (const raw of chain.body.auth_chain as unknown[]) add(raw);
    }
    const toMap = (s: Map<string, StateEntry>): StateMap => new Map([...s.values()].map((e) => [stateKeyOf(e.type, e.state_key), e.event_id]));
    return resolveState(version, [toMap(a), toMap(b)], (id) => events.get(id));
  }
});
