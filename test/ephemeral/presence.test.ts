/** PresenceService aggregation with a fake clock: devices, idle timeout, offline grace, explicit states, visibility. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PresenceService, type PresenceView } from '../../src/ephemeral/presence.js';
import { InProcessNotifier } from '../../src/notifier.js';
import type { PresenceStatus, PresenceStore } from '../../src/storage/ephemeral-store.js';

function setup(opts: { idleAfterMs?: number; offlineGraceMs?: number } = {}) {
  let now = 1_000_000;
  const statuses = new Map<string, PresenceStatus>();
  const store: PresenceStore = {
    getStatus: async (u) => statuses.get(u),
    setStatus: async (u, s) => {
      statuses.set(u, s);
    },
  };
  const shared = new Set<string>(['@a:x', '@b:x']);
  const notifier = new InProcessNotifier();
  const presence = new PresenceService({
    store,
    notifier,
    now: () => now,
    config: { idleAfterMs: opts.idleAfterMs ?? 1000, offlineGraceMs: opts.offlineGraceMs ?? 500 },
    joinedRooms: async () => ['!r:x'],
    visibleTo: async (viewer, others) => new Set(shared.has(viewer) ? others.filter((o) => shared.has(o)) : []),
  });
  const advance = (ms: number) => {
    now += ms;
    // The service's timer runs on real time; with a fake clock the test fires due work itself.
    (presence as unknown as { timers: { runDue(): void } }).timers.runDue();
  };
  const state = async (u = '@a:x'): Promise<PresenceView> => presence.getPresence(u);
  return { presence, advance, state, store, notifier };
}

test('one device: online on connect, unavailable after the idle time, offline after the grace period', async () => {
  const { presence, advance, state } = setup();
  assert.equal((await state()).presence, 'offline');
  await presence.connectionOpened('@a:x', 'D1');
  assert.deepEqual(await state(), { presence: 'online', statusMsg: null, currentlyActive: true, lastActiveTs: 1_000_000 });
  advance(999);
  assert.equal((await state()).presence, 'online');
  advance(1);
  assert.equal((await state()).presence, 'unavailable');
  assert.equal((await state()).currentlyActive, false);
  await presence.active('@a:x', 'D1');
  assert.equal((await state()).presence, 'online');
  await presence.connectionClosed('@a:x', 'D1');
  advance(499);
  assert.equal((await state()).presence, 'online', 'still within the grace period');
  advance(1);
  assert.equal((await state()).presence, 'offline');
});

test('a reconnect within the grace period keeps the user online and is not new activity', async () => {
  const { presence, advance, state } = setup();
  await presence.connectionOpened('@a:x', 'D1');
  await presence.connectionClosed('@a:x', 'D1');
  advance(400);
  await presence.connectionOpened('@a:x', 'D1');
  advance(200);
  assert.equal((await state()).presence, 'online');
  advance(400);
  assert.equal((await state()).presence, 'unavailable', 'idle counted from the first connect');
});

test('several devices: the most present wins; an idle device alone is unavailable', async () => {
  const { presence, advance, state } = setup({ idleAfterMs: 10_000 });
  await presence.connectionOpened('@a:x', 'D1');
  await presence.connectionOpened('@a:x', 'D2', { idle: true });
  assert.equal((await state()).presence, 'online');
  await presence.connectionClosed('@a:x', 'D1');
  advance(500);
  assert.equal((await state()).presence, 'unavailable');
  await presence.connectionClosed('@a:x', 'D2');
  advance(500);
  assert.equal((await state()).presence, 'offline');
});

test('two connections of one device: closing one keeps it connected', async () => {
  const { presence, advance, state } = setup({ idleAfterMs: 10_000 });
  await presence.connectionOpened('@a:x', 'D1');
  await presence.connectionOpened('@a:x', 'D1');
  await presence.connectionClosed('@a:x', 'D1');
  advance(5000);
  assert.equal((await state()).presence, 'online');
});

test('explicit states cap the derived one and are stored with the status message', async () => {
  const { presence, state, store } = setup();
  await presence.connectionOpened('@a:x', 'D1');
  await presence.setPresence('@a:x', 'D1', 'unavailable', 'busy');
  assert.deepEqual(await store.getStatus('@a:x'), { state: 'unavailable', statusMsg: 'busy' });
  assert.equal((await state()).presence, 'unavailable');
  assert.equal((await state()).statusMsg, 'busy');
  await presence.setPresence('@a:x', 'D1', 'offline', null);
  assert.equal((await state()).presence, 'offline');
  await presence.setPresence('@a:x', 'D1', 'online', null);
  assert.equal((await state()).presence, 'online');
});

test('changesFor: only changes in the range, only visible users, latest state per user', async () => {
  const { presence } = setup();
  const p0 = presence.currentPosition();
  await presence.connectionOpened('@a:x', 'D1');
  await presence.connectionOpened('@c:x', 'D1');
  const p1 = presence.currentPosition();
  await presence.setPresence('@a:x', 'D1', 'online', 'hi');
  const p2 = presence.currentPosition();

  const all = await presence.changesFor('@b:x', p0, p2);
  assert.deepEqual(all.map((e) => e.sender), ['@a:x'], 'c shares no room with b');
  assert.equal((all[0].content as { status_msg?: string }).status_msg, 'hi', 'the latest state');
  assert.deepEqual(await presence.changesFor('@b:x', p2, p2), []);
  const own = await presence.changesFor('@c:x', p0, p1);
  assert.deepEqual(own.map((e) => e.sender), ['@c:x'], 'a user always sees their own presence');
  assert.deepEqual((await presence.changesFor('@b:x', p1, p2)).map((e) => e.sender), ['@a:x']);
});

test('a bare activity bump is not a change on the stream; local changes reach listeners', async () => {
  const { presence } = setup();
  const seen: string[] = [];
  presence.localChanges.on((u) => seen.push(`${u.userId}:${u.view.presence}`));
  await presence.connectionOpened('@a:x', 'D1');
  const p = presence.currentPosition();
  await presence.active('@a:x', 'D1');
  assert.equal(presence.currentPosition(), p);
  assert.deepEqual(seen, ['@a:x:online']);
  presence.applyRemote('@r:y', { presence: 'online', statusMsg: null, currentlyActive: true, lastActiveTs: 1 });
  assert.deepEqual(seen, ['@a:x:online'], 'remote updates are not re-emitted');
  assert.ok(presence.currentPosition() > p);
});
