import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject } from '../../src/core/json.js';
import { stateKeyOf } from '../../src/core/pdu.js';
import { TestFederation } from './servers-fixture.js';

const TXN = (n: string) => ({ userId: '@x:x', deviceId: 'D', txnId: n });

async function twoServers() {
  const fed = new TestFederation();
  const hs1 = await fed.addServer('hs1.test', ['alice']);
  const hs2 = await fed.addServer('hs2.test', ['bob', 'carol', 'dave']);
  return { fed, hs1, hs2 };
}

test('a user joins a room on another server by alias; state matches and messages flow both ways', async () => {
  const { fed, hs1, hs2 } = await twoServers();
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'public_chat', room_alias_name: 'lobby', name: 'Lobby' });
  const joined = await hs2.rooms.join('@bob:hs2.test', '#lobby:hs1.test', undefined);
  assert.equal(joined, roomId);
  await fed.flush();

  const s1 = await hs1.storage.events.getCurrentState(roomId);
  const s2 = await hs2.storage.events.getCurrentState(roomId);
  assert.deepEqual(new Map([...s2].sort()), new Map([...s1].sort()));
  assert.equal((await hs1.storage.events.getMembership(roomId, '@bob:hs2.test'))?.membership, 'join');
  assert.equal((await hs2.storage.events.getMembership(roomId, '@bob:hs2.test'))?.membership, 'join');
  assert.ok(hs1.received.some((r) => r.startsWith('GET /_matrix/federation/v1/make_join/')));
  assert.ok(hs1.received.some((r) => r.startsWith('PUT /_matrix/federation/v2/send_join/')));

  const fromAlice = await hs1.rooms.sendMessage(roomId, '@alice:hs1.test', 'm.room.message', { body: 'hi bob' }, TXN('1'));
  await fed.flush();
  assert.equal((await hs2.storage.events.getEvent(fromAlice))?.outlier, false);
  const fromBob = await hs2.rooms.sendMessage(roomId, '@bob:hs2.test', 'm.room.message', { body: 'hi alice' }, TXN('2'));
  await fed.flush();
  const got = await hs1.storage.events.getEvent(fromBob);
  assert.equal(got?.softFailed, false);
  assert.equal(got?.event.content.body, 'hi alice');
  assert.deepEqual(await hs1.storage.events.getForwardExtremities(roomId), [fromBob]);
  assert.deepEqual(await hs2.storage.events.getForwardExtremities(roomId), [fromBob]);
  // Every event reached the other server; the join's echo back to hs1 is a duplicate of what send_join stored.
  assert.ok(fed.deliveryLog.every((d) => d.status === 'persisted' || d.status === 'duplicate'), JSON.stringify(fed.deliveryLog));
});

test('joining an unknown room or through an unreachable server fails with a Matrix error', async () => {
  const { hs1, hs2 } = await twoServers();
  await assert.rejects(hs2.rooms.join('@bob:hs2.test', '#nope:hs1.test', undefined), { errcode: 'M_NOT_FOUND' });
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'private_chat' });
  await assert.rejects(hs2.rooms.join('@bob:hs2.test', roomId, undefined, ['hs1.test']), { errcode: 'M_FORBIDDEN' });
  hs1.down = true;
  await assert.rejects(hs2.rooms.join('@bob:hs2.test', roomId, undefined, ['hs1.test']), (e: { errcode?: string }) => e.errcode === 'M_UNKNOWN');
  assert.equal(await hs2.storage.events.getMembership(roomId, '@bob:hs2.test'), undefined);
});

test('remote invite: countersigned, shown to the invitee with stripped state, then joined', async () => {
  const { fed, hs1, hs2 } = await twoServers();
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'private_chat', name: 'Secret' });
  const inviteId = await hs1.rooms.membership('invite', '@alice:hs1.test', roomId, '@carol:hs2.test');
  const onHs1 = await hs1.storage.events.getEvent(inviteId);
  assert.ok(onHs1 && !onHs1.outlier);
  assert.ok(onHs1.event.pdu.signatures['hs2.test'], 'the invitee server signed the invite');

  const m = await hs2.storage.events.getMembership(roomId, '@carol:hs2.test');
  assert.equal(m?.membership, 'invite');
  const stored = await hs2.storage.events.getEvent(inviteId);
  assert.equal(stored?.outlier, true);
  const stripped = stored?.event.pdu.unsigned?.invite_room_state as JsonObject[];
  assert.ok(stripped.some((s) => s.type === 'm.room.name' && (s.content as JsonObject).name === 'Secret'));
  assert.equal(await hs2.rooms.serverInRoom(roomId), false);

  // Joining without via: the inviter's server is asked.
  await hs2.rooms.join('@carol:hs2.test', roomId, undefined);
  await fed.flush();
  assert.equal((await hs1.storage.events.getMembership(roomId, '@carol:hs2.test'))?.membership, 'join');
  assert.equal(await hs2.rooms.serverInRoom(roomId), true);
});

test('rejecting a remote invite goes through make_leave/send_leave', async () => {
  const { hs1, hs2 } = await twoServers();
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'private_chat', invite: ['@dave:hs2.test'] });
  assert.equal((await hs2.storage.events.getMembership(roomId, '@dave:hs2.test'))?.membership, 'invite');
  await hs2.rooms.membership('leave', '@dave:hs2.test', roomId, '@dave:hs2.test');
  assert.equal((await hs1.storage.events.getMembership(roomId, '@dave:hs2.test'))?.membership, 'leave');
  assert.equal((await hs2.storage.events.getMembership(roomId, '@dave:hs2.test'))?.membership, 'leave');
  assert.ok(hs1.received.some((r) => r.startsWith('PUT /_matrix/federation/v2/send_leave/')));
});

test('leaving a joined remote room is an ordinary event sent to the room', async () => {
  const { fed, hs1, hs2 } = await twoServers();
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'public_chat' });
  await hs2.rooms.join('@bob:hs2.test', roomId, undefined, ['hs1.test']);
  await hs2.rooms.membership('leave', '@bob:hs2.test', roomId, '@bob:hs2.test');
  await fed.flush();
  assert.equal((await hs1.storage.events.getMembership(roomId, '@bob:hs2.test'))?.membership, 'leave');
  // Rejoining after everyone local left goes through make_join again.
  const before = hs1.received.filter((r) => r.includes('make_join')).length;
  await hs2.rooms.join('@bob:hs2.test', roomId, undefined, ['hs1.test']);
  await fed.flush();
  assert.equal(hs1.received.filter((r) => r.includes('make_join')).length, before + 1);
  assert.equal((await hs1.storage.events.getMembership(roomId, '@bob:hs2.test'))?.membership, 'join');
});

test('knocking on a remote room', async () => {
  const { hs1, hs2 } = await twoServers();
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', {
    preset: 'private_chat',
    name: 'Knock here',
    initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
  });
  await hs2.rooms.knock('@bob:hs2.test', roomId, 'let me in', ['hs1.test']);
  assert.equal((await hs1.storage.events.getMembership(roomId, '@bob:hs2.test'))?.membership, 'knock');
  const mine = await hs2.storage.events.getMembership(roomId, '@bob:hs2.test');
  assert.equal(mine?.membership, 'knock');
  const ev = await hs2.storage.events.getEvent(mine.eventId);
  const state = ev?.event.pdu.unsigned?.knock_room_state as JsonObject[];
  assert.ok(state.some((s) => s.type === 'm.room.name'));
});

test('restricted room: joined through an authorising server that countersigns the join', async () => {
  const { fed, hs1, hs2 } = await twoServers();
  const space = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'public_chat' });
  const restricted = await hs1.rooms.createRoom('@alice:hs1.test', {
    preset: 'private_chat',
    initial_state: [
      { type: 'm.room.join_rules', state_key: '', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: space }] } },
    ],
  });
  await assert.rejects(hs2.rooms.join('@bob:hs2.test', restricted, undefined, ['hs1.test']), { errcode: 'M_FORBIDDEN' });
  await hs2.rooms.join('@bob:hs2.test', space, undefined, ['hs1.test']);
  await fed.flush();
  await hs2.rooms.join('@bob:hs2.test', restricted, undefined, ['hs1.test']);
  const m = await hs1.storage.events.getMembership(restricted, '@bob:hs2.test');
  assert.equal(m?.membership, 'join');
  const join = await hs2.storage.events.getEvent(m.eventId);
  assert.equal(join?.event.content.join_authorised_via_users_server, '@alice:hs1.test');
  assert.ok(join?.event.pdu.signatures['hs1.test'], 'the authorising server signed the join');
});

test('a forged send_join response: badly signed events are dropped, hash mismatches redacted, auth violations rejected', async () => {
  const { hs1, hs2 } = await twoServers();
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'public_chat', name: 'Real name', topic: 'Real topic' });
  const tpl = await hs1.reads.requireServerInRoom('hs2.test', roomId).catch(() => undefined);
  assert.equal(tpl, undefined, 'hs2 is not in the room yet');
  // Take an honest response and tamper with it.
  const { makeMembership } = await import('../../federation/rooms/make-membership.js');
  const { sendMembership } = await import('../../federation/rooms/send-membership.js');
  const { buildEvent } = await import('../../src/core/event-builder.js');
  const { getRoomVersion } = await import('../../src/rooms/versions.js');
  const { toRoomEvent } = await import('../../src/core/event-format.js');
  const version = getRoomVersion('12')!;
  const made = await makeMembership(hs1.deps, 'join', 'hs2.test', roomId, '@bob:hs2.test', ['12']);
  const e = made.event;
  const { pdu } = buildEvent(
    {
      type: 'm.room.member',
      stateKey: '@bob:hs2.test',
      sender: '@bob:hs2.test',
      content: { membership: 'join' },
      roomId,
      prevEvents: e.prev_events as string[],
      authEvents: e.auth_events as string[],
      depth: e.depth as number,
      originServerTs: 5,
    },
    version,
    'hs2.test',
    hs2.deps.signingKey,
  );
  const eventId = toRoomEvent(pdu, version).eventId;
  const res = await sendMembership(hs1.deps, 'join', 'hs2.test', roomId, eventId, pdu);
  const state = (res.state as JsonObject[]).map((s) => structuredClone(s));
  const topic = state.find((s) => s.type === 'm.room.topic')!;
  (topic.content as JsonObject).topic = 'Forged topic';
  const name = state.find((s) => s.type === 'm.room.name')!;
  name.signatures = { 'hs1.test': { 'ed25519:k0': 'AAAA' } };
  // A state event whose sender was never in the room: well signed, but the auth rules refuse it.
  const create = state.find((s) => s.type === 'm.room.create')!;
  const createId = toRoomEvent(create as never, version).eventId;
  const pl = state.find((s) => s.type === 'm.room.power_levels')!;
  const forged = buildEvent(
    {
      type: 'm.room.avatar',
      stateKey: '',
      sender: '@mallory:hs2.test',
      content: { url: 'mxc://hs2.test/evil' },
      roomId,
      prevEvents: [createId],
      authEvents: [toRoomEvent(pl as never, version).eventId],
      depth: 2,
      originServerTs: 6,
    },
    version,
    'hs2.test',
    hs2.deps.signingKey,
  );
  state.push(forged.pdu as unknown as JsonObject);
  await hs2.remote.completeJoin(version, roomId, pdu, { ...res, state });

  const s2 = await hs2.storage.events.getCurrentState(roomId);
  assert.equal(s2.has(stateKeyOf('m.room.name', '')), false, 'the badly signed name was dropped');
  const topicId = s2.get(stateKeyOf('m.room.topic', ''));
  const storedTopic = topicId === undefined ? undefined : await hs2.storage.events.getEvent(topicId);
  assert.equal(storedTopic?.event.content.topic, undefined, 'the tampered topic is kept redacted');
  assert.equal(s2.has(stateKeyOf('m.room.avatar', '')), false, 'the unauthorised avatar is not state');
  const rejected = await hs2.storage.events.getEvent(forged.event.eventId);
  assert.match(rejected?.rejectedReason ?? '', /./);
  assert.equal((await hs2.storage.events.getMembership(roomId, '@bob:hs2.test'))?.membership, 'join');
});
