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

test('two connections of one device, one of them idle: whichever closes, the one left decides', async () => {
  const { presence, advance, state } = setup({ idleAfterMs: 10_000 });
  // An idle connection, then an active one: online while the active one is open.
  await presence.connectionOpened('@a:x', 'D1', { idle: true });
  await presence.connectionOpened('@a:x', 'D1');
  assert.equal((await state()).presence, 'online');
  // The active one closes: only the idle connection is left, so the device is idle again.
  await presence.connectionClosed('@a:x', 'D1');
  assert.equal((await state()).presence, 'unavailable');
  await presence.connectionClosed('@a:x', 'D1', { idle: true });
  advance(500);
  assert.equal((await state()).presence, 'offline');

  // The other order: an active connection, then an idle one that opens and closes again.
  await presence.connectionOpened('@a:x', 'D2');
  await presence.connectionOpened('@a:x', 'D2', { idle: true });
  assert.equal((await state()).presence, 'online', 'an idle connection does not hide an active one of the same device');
  await presence.connectionClosed('@a:x', 'D2', { idle: true });
  assert.equal((await state()).presence, 'online');
});

test('activity just after the grace period ran out, before its expiry was processed, still counts', async () => {
  let now = 1_000_000;
  const { presence, state } = (() => {
    const notifier = new InProcessNotifier();
    const p = new PresenceService({
      store: { getStatus: async () => undefined, setStatus: async () => {} },
      notifier,
      now: () => now,
      config: { idleAfterMs: 10_000, offlineGraceMs: 500 },
      joinedRooms: async () => [],
      visibleTo: async () => new Set(),
    });
    return { presence: p, state: async () => (await p.getPresence('@a:x')).presence };
  })();
  await presence.connectionOpened('@a:x', 'D1');
  await presence.connectionClosed('@a:x', 'D1');
  // The grace period is over but the expiry timer has not run (a busy event loop): the device sends
  // a message over plain HTTP. That is activity, exactly as if the expiry had been processed first.
  now += 600;
  await presence.active('@a:x', 'D1');
  assert.equal(await state(), 'online');
  now += 499;
  (presence as unknown as { timers: { runDue(): void } }).timers.runDue();
  assert.equal(await state(), 'online', 'live for a grace period after the activity');
  now += 1;
  (presence as unknown as { timers: { runDue(): void } }).timers.runDue();
  assert.equal(await state(), 'offline');
  presence.close();
});

test('currentOf: current presence of users the server knows; changesFor with the viewer rooms uses the rooms at the change', async () => {
  const { presence } = setup();
  await presence.connectionOpened('@a:x', 'D1');
  await presence.getPresence('@never:x');
  assert.deepEqual(
    presence.currentOf(['@a:x', '@never:x', '@unknown:x']).map((e) => [e.sender, (e.content as { presence: string }).presence]),
    [['@a:x', 'online']],
  );
  const to = presence.currentPosition();
  // setup's joinedRooms puts everyone in !r:x.
  assert.deepEqual((await presence.changesFor('@z:x', 0, to, ['!r:x'])).map((e) => e.sender), ['@a:x']);
  assert.deepEqual(await presence.changesFor('@z:x', 0, to, ['!other:x']), []);
});

test('with wakeCoalesceMs, changes in one window wake readers once, with every change visible', async () => {
  const notifier = new InProcessNotifier();
  const presence = new PresenceService({
    store: { getStatus: async () => undefined, setStatus: async () => {} },
    notifier,
    now: () => 1_000_000,
    config: { idleAfterMs: 60_000, offlineGraceMs: 500 },
    joinedRooms: async () => ['!r:x'],
    visibleTo: async (_viewer, others) => new Set(others),
    wakeCoalesceMs: 20,
  });
  try {
    const mark = notifier.mark();
    const wakes: string[] = [];
    const reader = notifier.waitFor(['!r:x'], 5000, undefined, mark).then((s) => wakes.push(String(s)));
    await presence.connectionOpened('@a:x', 'D1');
    await presence.connectionOpened('@b:x', 'D1');
    await new Promise((r) => setImmediate(r));
    // The mark moves with each change (a sync started now reads the new position), but nobody wakes yet.
    const moved = notifier.mark();
    assert.ok(moved > mark);
    assert.deepEqual(wakes, [], 'nobody woken before the window ends');
    await reader;
    assert.deepEqual(wakes, ['presence']);
    assert.equal(notifier.mark(), moved + 1, 'both changes in one notification');
    assert.equal((await presence.getPresence('@a:x')).presence, 'online');
    assert.equal((await presence.getPresence('@b:x')).presence, 'online');
  } finally {
    presence.close();
  }
});
