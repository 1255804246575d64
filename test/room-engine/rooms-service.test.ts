import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { generateSigningKey } from '../../src/core/signing.js';
import { Hooks } from '../../src/hooks.js';
import { InProcessNotifier } from '../../src/notifier.js';
import { Rooms } from '../../src/room-engine/rooms.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

async function setup() {
  const storage = SqliteStorage.open(':memory:');
  const notifier = new InProcessNotifier();
  const rooms = new Rooms({
    storage,
    serverName: 'hs',
    signingKey: generateSigningKey('k'),
    now: () => Date.now(),
    notifier,
    logger: pino({ level: 'silent' }),
  });
  const hooks = new Hooks();
  rooms.attachHooks(hooks);
  for (const u of ['alice', 'bob']) {
    await storage.accounts.createUser({ userId: `@${u}:hs`, passwordHash: null, isAdmin: false, createdTs: 0, profile: { displayname: u } });
  }
  return { storage, rooms, hooks, notifier };
}

test('profile changes are sent as new member events into every joined room', async () => {
  const { storage, rooms, hooks } = await setup();
  const r1 = await rooms.createRoom('@alice:hs', { preset: 'public_chat' });
  const r2 = await rooms.createRoom('@alice:hs', { preset: 'public_chat' });
  const other = await rooms.createRoom('@bob:hs', { preset: 'public_chat' });
  const before = await storage.events.getCurrentStateEvent(r1, 'm.room.member', '@alice:hs');
  assert.equal(before?.event.content.displayname, 'alice');
  await hooks.profileChanged.emit('@alice:hs', { displayname: 'Alice A', avatar_url: 'mxc://hs/a' }, 'displayname');
  for (const r of [r1, r2]) {
    const m = await storage.events.getCurrentStateEvent(r, 'm.room.member', '@alice:hs');
    assert.deepEqual(m?.event.content, { membership: 'join', displayname: 'Alice A', avatar_url: 'mxc://hs/a' });
  }
  assert.equal(await storage.events.getCurrentStateEvent(other, 'm.room.member', '@alice:hs'), undefined);
});

test('deactivation makes the user leave their rooms', async () => {
  const { storage, rooms, hooks } = await setup();
  const r = await rooms.createRoom('@alice:hs', { preset: 'public_chat' });
  await rooms.join('@bob:hs', r, undefined);
  await hooks.userDeactivated.emit('@bob:hs');
  assert.equal((await storage.events.getMembership(r, '@bob:hs'))?.membership, 'leave');
});

test('persisted events wake waiters on the room and on the member', async () => {
  const { rooms, notifier } = await setup();
  const r = await rooms.createRoom('@alice:hs', { preset: 'public_chat' });
  const woke = notifier.waitFor(['@bob:hs'], 5_000);
  await rooms.join('@bob:hs', r, undefined);
  assert.equal(await woke, 'events');
  const roomWoke = notifier.waitFor([r], 5_000);
  await rooms.sendMessage(r, '@bob:hs', 'm.room.message', { body: 'x' }, { userId: '@bob:hs', deviceId: 'D', txnId: '1' });
  assert.equal(await roomWoke, 'events');
});
