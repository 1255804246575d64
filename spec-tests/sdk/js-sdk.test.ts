/**
 * End-to-end proof with a real client: matrix-js-sdk (its own HTTP calls, sync loop, timeline and
 * pagination logic) against a real Comet process. Tests share one server and run in order; the
 * restart test is last because it takes the server down under every running client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Direction, EventType, type IRoomEvent, Preset, type Room } from 'matrix-js-sdk';
import { api, registerUser, uniqueName } from '../harness/client.js';
import { liveBodies, type SdkUser, sdkLogin, sdkRegister, startSyncing, stopAll, waitForRoom } from '../harness/sdk.js';
import { relaunch, startServer, type TestServer } from '../harness/server.js';

const V3 = '/_matrix/client/v3';
const HISTORY = 500;

describe('matrix-js-sdk against a running Comet', () => {
  let server: TestServer;
  let alice: SdkUser;
  let bob: SdkUser;
  let roomId: string;
  let historyRoom: string;
  let historyReader: SdkUser;
  const historyBodies = Array.from({ length: HISTORY }, (_, i) => `history ${i}`);
  const extra: SdkUser[] = [];

  before(async () => {
    // A short shutdown grace: the restart test stops the server while SDK long polls are in flight.
    server = await startServer({ config: { shutdown_grace_ms: 200 } });
    alice = await sdkRegister(server, uniqueName('alice'));
    bob = await sdkRegister(server, uniqueName('bob'));
    await Promise.all([startSyncing(alice.client), startSyncing(bob.client)]);
  });
  after(async () => {
    stopAll(alice, bob, ...extra);
    await server.stop();
    server.cleanup();
  });

  /** A started client that the after hook stops. */
  const newSyncingUser = async (opts: Parameters<typeof startSyncing>[1] = {}): Promise<SdkUser> => {
    const user = await sdkRegister(server, uniqueName('sdk'));
    extra.push(user);
    await startSyncing(user.client, opts);
    return user;
  };
  const membershipOf = (room: Room, userId: string) => room.getMember(userId)?.membership;

  test('register, create a room, invite, join and exchange messages through the sync loop', async () => {
    const created = await alice.client.createRoom({ preset: Preset.PrivateChat, name: 'E2E' });
    roomId = created.room_id;
    await waitForRoom(alice.client, roomId, (r) => r.getMyMembership() === 'join', 'alice in her room');

    await alice.client.invite(roomId, bob.userId);
    await waitForRoom(bob.client, roomId, (r) => r.getMyMembership() === 'invite', 'bob sees the invite');
    const invited = bob.client.getRoom(roomId)!;
    assert.equal(invited.name, 'E2E', 'the invite carries the stripped room name');

    await bob.client.joinRoom(roomId);
    await waitForRoom(alice.client, roomId, (r) => membershipOf(r, bob.userId) === 'join', 'alice sees bob join');
    await waitForRoom(bob.client, roomId, (r) => r.getMyMembership() === 'join', 'bob is joined');

    await alice.client.sendTextMessage(roomId, 'hello bob');
    await waitForRoom(bob.client, roomId, (r) => liveBodies(r).includes('hello bob'), 'bob gets alice’s message');
    await bob.client.sendTextMessage(roomId, 'hi alice');
    await waitForRoom(alice.client, roomId, (r) => liveBodies(r).includes('hi alice'), 'alice gets bob’s reply');

    for (const client of [alice.client, bob.client]) {
      const room = client.getRoom(roomId)!;
      assert.deepEqual(liveBodies(room).slice(-2), ['hello bob', 'hi alice'], `order seen by ${client.getUserId()}`);
      const reply = room.getLiveTimeline().getEvents().at(-1)!;
      assert.equal(reply.getSender(), bob.userId);
      assert.equal(reply.getRoomId(), roomId);
      assert.ok(reply.getId()?.startsWith('$'));
    }
    // The sender's own echo is matched to its local echo by transaction id, not duplicated.
    assert.equal(liveBodies(alice.client.getRoom(roomId)!).filter((b) => b === 'hello bob').length, 1);
  });

  test('room name and topic changes reach the other member', async () => {
    await alice.client.setRoomName(roomId, 'Renamed');
    await alice.client.setRoomTopic(roomId, 'a topic');
    const topic = (r: Room) => r.currentState.getStateEvents(EventType.RoomTopic, '')?.getContent().topic;
    await waitForRoom(bob.client, roomId, (r) => r.name === 'Renamed' && topic(r) === 'a topic', 'bob sees the new name and topic');
    const nameEvent = bob.client.getRoom(roomId)!.currentState.getStateEvents(EventType.RoomName, '')!;
    assert.equal(nameEvent.getSender(), alice.userId);
    assert.equal(nameEvent.getPrevContent().name, 'E2E', 'unsigned.prev_content carries the old name');
  });

  test(`a client paginates back through ${HISTORY} messages and gets every one in order`, async () => {
    // The writer uses raw HTTP (no sync loop of its own), one PUT after the other so the order is
    // known: the point is reading history back through the SDK, not the SDK's send queue.
    const writer = await registerUser(server, uniqueName('writer'));
    const created = await api(server, 'POST', `${V3}/createRoom`, { token: writer.accessToken, body: { preset: 'public_chat', name: 'History' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    historyRoom = created.body.room_id;
    for (const [i, body] of historyBodies.entries()) {
      const res = await api(server, 'PUT', `${V3}/rooms/${encodeURIComponent(historyRoom)}/send/m.room.message/h${i}`, {
        token: writer.accessToken,
        body: { msgtype: 'm.text', body },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }

    // A reader joins (the room's history is shared) with a 10-event window and scrolls back to the creation.
    const reader = await newSyncingUser({ initialSyncLimit: 10 });
    historyReader = reader;
    await reader.client.joinRoom(historyRoom);
    const room = await waitForRoom(reader.client, historyRoom, (r) => (r.getMyMembership() === 'join' ? r : undefined), 'the reader joined');
    assert.ok(liveBodies(room).length <= 10);
    let pages = 0;
    while (room.oldState.paginationToken !== null && pages < 100) {
      await reader.client.scrollback(room, 100);
      pages++;
    }
    assert.ok(pages >= HISTORY / 100 && pages < 100, `${pages} pages`);
    const events = room.getLiveTimeline().getEvents();
    assert.equal(events[0].getType(), EventType.RoomCreate, 'scrolled back to the create event');
    assert.deepEqual(liveBodies(room), historyBodies);
    assert.equal(new Set(events.map((e) => e.getId())).size, events.length, 'no event appears twice');

    // The SDK's raw pagination call agrees: /messages backwards from the live end.
    assert.deepEqual(await readAllMessages(reader, historyRoom), historyBodies);
  });

  test('a redaction reaches the other member and strips the content', async () => {
    const { event_id: eventId } = await bob.client.sendTextMessage(roomId, 'regrettable');
    await waitForRoom(alice.client, roomId, (r) => r.findEventById(eventId) !== undefined, 'alice gets the message');
    await alice.client.redactEvent(roomId, eventId, undefined, { reason: 'moderation' });
    const redacted = await waitForRoom(
      bob.client,
      roomId,
      (r) => {
        const e = r.findEventById(eventId);
        return e?.isRedacted() ? e : undefined;
      },
      'bob sees his message redacted',
    );
    assert.deepEqual(redacted.getContent(), {});
    assert.equal(redacted.getUnsigned().redacted_because?.sender, alice.userId);

    // A client that syncs from scratch gets it already redacted from the server.
    const fresh = await newDevice(alice);
    await startSyncing(fresh.client, { initialSyncLimit: 10 });
    const seen = fresh.client.getRoom(roomId)!.findEventById(eventId);
    assert.ok(seen, 'the redacted event is in the fresh timeline');
    assert.ok(seen.isRedacted());
    assert.deepEqual(seen.getContent(), {});
  });

  test('leave and rejoin', async () => {
    await bob.client.leave(roomId);
    await waitForRoom(bob.client, roomId, (r) => r.getMyMembership() === 'leave', 'bob’s client sees his leave');
    await waitForRoom(alice.client, roomId, (r) => membershipOf(r, bob.userId) === 'leave', 'alice sees bob leave');
    await alice.client.sendTextMessage(roomId, 'while bob was away');

    // private_chat is shared history, so bob, once back, can read what was said while he was away.
    await alice.client.invite(roomId, bob.userId);
    await waitForRoom(bob.client, roomId, (r) => r.getMyMembership() === 'invite', 'bob is invited again');
    await bob.client.joinRoom(roomId);
    await waitForRoom(alice.client, roomId, (r) => membershipOf(r, bob.userId) === 'join', 'alice sees bob back');
    await bob.client.sendTextMessage(roomId, 'back again');
    await waitForRoom(alice.client, roomId, (r) => liveBodies(r).at(-1) === 'back again', 'alice gets bob’s message');
    const room = await waitForRoom(bob.client, roomId, (r) => (liveBodies(r).at(-1) === 'back again' ? r : undefined), 'bob’s echo');
    assert.equal(room.getMyMembership(), 'join');
    const page = await bob.client.createMessagesRequest(roomId, null, 10, Direction.Backward);
    assert.ok(page.chunk.some((e) => e.content.body === 'while bob was away'));
  });

  test('lazy-loaded members: only the senders first, everyone after loadMembersIfNeeded', async () => {
    const owner = await newSyncingUser();
    const { room_id: lazyRoom } = await owner.client.createRoom({ preset: Preset.PublicChat, name: 'Lazy' });
    const quiet: SdkUser[] = [];
    for (let i = 0; i < 4; i++) quiet.push(await sdkRegister(server, uniqueName('quiet')));
    extra.push(...quiet);
    for (const q of quiet) await q.client.joinRoom(lazyRoom);
    // Enough chatter that the quiet members' joins fall outside the timeline of the joining sync.
    for (let i = 0; i < 15; i++) await owner.client.sendTextMessage(lazyRoom, `talk ${i}`);

    const lazy = await newSyncingUser({ lazyLoadMembers: true });
    await lazy.client.joinRoom(lazyRoom);
    await lazy.client.sendTextMessage(lazyRoom, 'hello everyone');
    const room = await waitForRoom(lazy.client, lazyRoom, (r) => (liveBodies(r).includes('hello everyone') ? r : undefined), 'the lazy client sees its message');
    const before = room.getJoinedMembers().map((m) => m.userId);
    for (const q of quiet) assert.ok(!before.includes(q.userId), `${q.userId} is not loaded before asking`);
    assert.ok(room.getJoinedMemberCount() >= 6, 'the summary still counts every joined member');

    await room.loadMembersIfNeeded();
    const loaded = room.getJoinedMembers().map((m) => m.userId).sort();
    assert.deepEqual(loaded, [owner.userId, lazy.userId, ...quiet.map((q) => q.userId)].sort());
  });

  test('a server restart loses nothing: running clients reconnect and a fresh client reads it all', async () => {
    const before = await alice.client.sendTextMessage(roomId, 'before restart');
    await waitForRoom(bob.client, roomId, (r) => r.findEventById(before.event_id) !== undefined, 'bob has the last pre-restart message');

    await server.stop();
    server = await relaunch(server, { samePort: true });
    // What a browser's "online" event triggers: skip the SDK's randomised keep-alive back-off.
    for (const c of [alice.client, bob.client]) c.retryImmediately();

    const { event_id: afterSend } = await alice.client.sendTextMessage(roomId, 'after restart');
    await waitForRoom(bob.client, roomId, (r) => r.findEventById(afterSend) !== undefined, 'bob’s sync loop resumed and got the new message', 20_000);

    const fresh = await newDevice(bob);
    assert.deepEqual(await readAllMessages(fresh, roomId), [
      'hello bob',
      'hi alice',
      'while bob was away',
      'back again',
      'before restart',
      'after restart',
    ]);
    assert.deepEqual(await readAllMessages(await newDevice(historyReader), historyRoom), historyBodies);
  });

  async function newDevice(user: SdkUser): Promise<SdkUser> {
    const device = await sdkLogin(server, user.userId);
    extra.push(device);
    return device;
  }
});

/** Every message body in a room, oldest first, read with the SDK's /messages call from the live end back to the creation. */
async function readAllMessages(user: SdkUser, roomId: string): Promise<string[]> {
  const events: IRoomEvent[] = [];
  let from: string | null = null;
  for (let page = 0; page < 50; page++) {
    const res = await user.client.createMessagesRequest(roomId, from, 100, Direction.Backward);
    events.push(...res.chunk);
    if (!res.end || res.chunk.length === 0) break;
    from = res.end;
  }
  events.reverse();
  assert.equal(events[0]?.type, EventType.RoomCreate, 'paginated back to the creation of the room');
  // Redacted messages have no body left; they are checked where they are redacted.
  return events.filter((e) => e.type === 'm.room.message' && e.content.body !== undefined).map((e) => String(e.content.body));
}
