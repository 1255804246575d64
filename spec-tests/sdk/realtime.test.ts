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
  SyncState,
  UserEvent,
} from 'matrix-js-sdk';
import { logger } from 'matrix-js-sdk/lib/logger.js';
import { registerUser, type TestUser } from '../harness/client.js';
import { startServer, type TestServer } from '../harness/server.js';

(logger as unknown as { setLevel(level: string): void }).setLevel('warn');

const DEADLINE_MS = 10_000;

type Emitter = {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
};

/** Resolves when `check` holds, re-checked whenever `emitter` fires one of `events`; fails at the deadline. */
function waitUntil(emitter: MatrixClient, events: string[], check: () => boolean, what: string): Promise<void> {
  const em = emitter as unknown as Emitter;
  return new Promise((resolve, reject) => {
    const finish = (err?: Error) => {
      clearTimeout(timer);
      for (const e of events) em.off(e, listener);
      if (err) reject(err);
      else resolve();
    };
    const listener = () => {
      try {
        if (check()) finish();
      } catch (err) {
        finish(err as Error);
      }
    };
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), DEADLINE_MS);
    for (const e of events) em.on(e, listener);
    listener();
  });
}

/**
 * GET /pushrules/ belongs to another branch (push rules); until it lands here the SDK gets an empty
 * rule set from this shim, which answers nothing else.
 */
const fetchWithPushRules: typeof fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  if (url.pathname === '/_matrix/client/v3/pushrules/') {
    const res = await fetch(input, init);
    if (res.status !== 404) return res;
    const empty = { global: { override: [], content: [], room: [], sender: [], underride: [] } };
    return new Response(JSON.stringify(empty), { status: 200, headers: { 'content-type': 'application/json' } });
  }
  return fetch(input, init);
};

async function sdkClient(server: TestServer, user: TestUser): Promise<MatrixClient> {
  const client = createClient({
    baseUrl: server.baseUrl,
    userId: user.userId,
    accessToken: user.accessToken,
    deviceId: user.deviceId,
    logger,
    fetchFn: fetchWithPushRules,
  });
  const ready = waitUntil(
    client,
    [ClientEvent.Sync],
    () => {
      const state = client.getSyncState();
      if (state === SyncState.Error) throw new Error(`SDK sync failed: ${String(client.getSyncStateData()?.error)}`);
      return state === SyncState.Prepared || state === SyncState.Syncing;
    },
    'the first sync',
  );
  await client.startClient({ initialSyncLimit: 10 });
  await ready;
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
