/**
 * matrix-js-sdk sees Comet's real-time data: two SDK clients with their own sync loops observe each
 * other's typing (RoomMemberEvent.Typing), read receipts (RoomEvent.Receipt) and presence
 * (UserEvent.Presence). Every wait is a condition re-checked on SDK events, with a deadline.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ClientEvent,
  createClient,
  type MatrixClient,
  Preset,
  ReceiptType,
  RoomEvent,
  RoomMemberEvent,
  UserEvent,
} from 'matrix-js-sdk';
import { logger } from 'matrix-js-sdk/lib/logger.js';
import { registerUser, type TestUser } from '../harness/client.js';
import { startSyncing, waitUntil } from '../harness/sdk.js';
import { startServer, type TestServer } from '../harness/server.js';

async function sdkClient(server: TestServer, user: TestUser): Promise<MatrixClient> {
  const client = createClient({ baseUrl: server.baseUrl, userId: user.userId, accessToken: user.accessToken, deviceId: user.deviceId, logger });
  await startSyncing(client, { initialSyncLimit: 10 });
  return client;
}

describe('matrix-js-sdk: typing, receipts, presence', () => {
  let server: TestServer;
  let alice: MatrixClient;
  let bob: MatrixClient;
  let aliceUser: TestUser;
  let bobUser: TestUser;
  let roomId: string;

  before(async () => {
    server = await startServer();
    aliceUser = await registerUser(server);
    bobUser = await registerUser(server);
    alice = await sdkClient(server, aliceUser);
    bob = await sdkClient(server, bobUser);
    ({ room_id: roomId } = await alice.createRoom({ preset: Preset.PublicChat, name: 'realtime' }));
    await bob.joinRoom(roomId);
    await waitUntil(
      alice,
      [RoomMemberEvent.Membership, ClientEvent.Sync],
      () => alice.getRoom(roomId)?.getMember(bobUser.userId)?.membership === 'join',
      'alice sees bob join',
    );
    await waitUntil(bob, [ClientEvent.Room, ClientEvent.Sync], () => bob.getRoom(roomId) !== null, 'bob has the room');
  });
  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await server.stop();
    server.cleanup();
  });

  test('typing: bob sees alice start and stop typing', async () => {
    const typing = () => bob.getRoom(roomId)?.getMember(aliceUser.userId)?.typing === true;
    await alice.sendTyping(roomId, true, 20_000);
    await waitUntil(bob, [RoomMemberEvent.Typing], typing, 'alice typing');
    await alice.sendTyping(roomId, false, 0);
    await waitUntil(bob, [RoomMemberEvent.Typing], () => !typing(), 'alice stopped typing');
  });

  test('receipts: alice sees bob read her message', async () => {
    const { event_id: eventId } = await alice.sendTextMessage(roomId, 'please read');
    await waitUntil(bob, [RoomEvent.Timeline], () => bob.getRoom(roomId)?.findEventById(eventId) !== undefined, 'bob gets the message');
    const event = bob.getRoom(roomId)!.findEventById(eventId)!;
    await bob.sendReadReceipt(event, ReceiptType.Read);
    await waitUntil(
      alice,
      [RoomEvent.Receipt],
      () => alice.getRoom(roomId)?.getEventReadUpTo(bobUser.userId) === eventId,
      'bob read receipt at alice',
    );
    const receipt = alice.getRoom(roomId)!.getReadReceiptForUserId(bobUser.userId);
    assert.equal(receipt?.eventId, eventId);
    assert.equal(typeof receipt?.data.ts, 'number');
  });

  test('presence: bob sees alice online with a status message, then unavailable', async () => {
    await alice.setPresence({ presence: 'online', status_msg: 'writing tests' });
    const user = () => bob.getUser(aliceUser.userId);
    await waitUntil(
      bob,
      [UserEvent.Presence, ClientEvent.Sync],
      () => user()?.presence === 'online' && user()?.presenceStatusMsg === 'writing tests',
      'alice online with status',
    );
    assert.equal(user()?.currentlyActive, true);
    await alice.setPresence({ presence: 'unavailable', status_msg: 'away' });
    await waitUntil(
      bob,
      [UserEvent.Presence, ClientEvent.Sync],
      () => user()?.presence === 'unavailable' && user()?.presenceStatusMsg === 'away',
      'alice unavailable',
    );
  });
});
