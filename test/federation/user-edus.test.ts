/**
 * The per-user EDU modules against plain-function ports: presence in and out (origin check,
 * refreshes that change nothing, remote expiry with a fake clock), the device-list chain out, and
 * the inbound chain (resync when nothing is cached or on a gap, incremental updates, stale ones
 * ignored, a failed resync forgetting the cache).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { attachDeviceListEdus } from '../../federation/edu/device-list-edus.js';
import type { EduHandler } from '../../federation/edu/edu-registry.js';
import type { EduPorts } from '../../federation/edu/edu-ports.js';
import { attachPresenceEdus } from '../../federation/edu/presence-edus.js';
import type { JsonObject } from '../../src/core/json.js';
import { DeviceListService } from '../../src/ephemeral/device-lists.js';
import { PresenceService } from '../../src/ephemeral/presence.js';
import { InProcessNotifier } from '../../src/notifier.js';
import type { DeviceRecord } from '../../src/storage/storage.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

interface Sent {
  destinations: string[];
  eduType: string;
  content: JsonObject;
  coalesceKey?: string;
}

function fakePorts(clock: { now: number }) {
  const handlers = new Map<string, EduHandler>();
  const sent: Sent[] = [];
  const fetched: string[] = [];
  const joinedAnywhere = new Set<string>(['@r:hs2']);
  let fetchAnswer: (path: string) => JsonObject = () => {
    throw new Error('unreachable');
  };
  const ports: EduPorts = {
    serverName: 'hs1',
    registerEduHandler: (type, h) => handlers.set(type, h),
    sendEdu: async (destinations, eduType, content, coalesceKey) => {
      sent.push({ destinations: [...destinations], eduType, content, coalesceKey });
    },
    serversSharingRoomWith: async () => ['hs2'],
    serversInRoom: async () => ['hs1', 'hs2'],
    joinedMembers: async () => ['@a:hs1', '@r:hs2'],
    isJoinedAnywhere: async (u) => joinedAnywhere.has(u),
    fetch: async (destination, path) => {
      fetched.push(`${destination} ${path}`);
      return fetchAnswer(path);
    },
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
  };
  const deliver = async (origin: string, type: string, content: JsonObject) => handlers.get(type)!(origin, content);
  return { ports, sent, fetched, joinedAnywhere, deliver, answer: (f: (path: string) => JsonObject) => (fetchAnswer = f) };
}

function presenceSetup() {
  const clock = { now: 10_000_000 };
  const f = fakePorts(clock);
  const storage = SqliteStorage.open(':memory:');
  const presence = new PresenceService({
    store: storage.presence,
    notifier: new InProcessNotifier(),
    now: () => clock.now,
    config: { idleAfterMs: 60_000, offlineGraceMs: 30_000 },
    joinedRooms: async () => ['!room:hs1'],
    visibleTo: async (_viewer, others) => new Set(others),
  });
  const edus = attachPresenceEdus(f.ports, presence, { refreshMs: 1_000_000, remoteTimeoutMs: 30 * 60_000 });
  const close = async () => {
    edus.close();
    presence.close();
    await storage.close();
  };
  return { clock, f, presence, edus, close };
}

test('inbound presence: applied for the origin’s own joined users only; an unchanged refresh wakes nobody; silence expires it', async () => {
  const { clock, f, presence, edus, close } = presenceSetup();
  await f.deliver('hs2', 'm.presence', { push: [{ user_id: '@r:hs2', presence: 'online', last_active_ago: 5_000, currently_active: true, status_msg: 'hi' }] });
  assert.deepEqual(await presence.getPresence('@r:hs2'), { presence: 'online', statusMsg: 'hi', currentlyActive: true, lastActiveTs: clock.now - 5_000 });

  await f.deliver('hs3', 'm.presence', { push: [{ user_id: '@r:hs2', presence: 'offline', last_active_ago: 0 }] });
  f.joinedAnywhere.delete('@s:hs2');
  await f.deliver('hs2', 'm.presence', { push: [{ user_id: '@s:hs2', presence: 'online', last_active_ago: 0 }] });
  assert.equal((await presence.getPresence('@r:hs2')).presence, 'online', 'another server cannot change it');
  assert.equal((await presence.getPresence('@s:hs2')).presence, 'offline', 'a user sharing no room is not tracked');

  const position = presence.currentPosition();
  clock.now += 10 * 60_000;
  await f.deliver('hs2', 'm.presence', { push: [{ user_id: '@r:hs2', presence: 'online', last_active_ago: 10 * 60_000 + 5_000, currently_active: true, status_msg: 'hi' }] });
  assert.equal(presence.currentPosition(), position, 'a refresh that changes nothing is not a change');

  // The refresh pushed the deadline: 30 minutes from it, not from the first update.
  clock.now += 29 * 60_000;
  edus.expireDue();
  assert.equal((await presence.getPresence('@r:hs2')).presence, 'online');
  clock.now += 60_000;
  edus.expireDue();
  await new Promise((r) => setImmediate(r));
  const gone = await presence.getPresence('@r:hs2');
  assert.equal(gone.presence, 'offline');
  assert.equal(gone.currentlyActive, false);
  assert.equal(gone.statusMsg, 'hi');
  await close();
});

test('outbound presence: local changes go to the servers sharing a room, coalesced per user; a newly joined server gets current presence', async () => {
  const { f, presence, edus, close } = presenceSetup();
  await presence.setPresence('@a:hs1', 'D1', 'online', 'working');
  const first = f.sent.find((s) => s.eduType === 'm.presence');
  assert.ok(first);
  assert.deepEqual(first.destinations, ['hs2']);
  assert.equal(first.coalesceKey, 'm.presence\u0000@a:hs1');
  assert.deepEqual(first.content, { push: [{ user_id: '@a:hs1', presence: 'online', currently_active: true, last_active_ago: 0, status_msg: 'working' }] });

  f.sent.length = 0;
  await edus.memberJoined('!room:hs1', '@new:hs3');
  assert.deepEqual(
    f.sent.map((s) => [s.destinations, (s.content.push as JsonObject[])[0].user_id]),
    [[['hs3'], '@a:hs1']],
  );
  await close();
});

function deviceListSetup() {
  const clock = { now: 1 };
  const f = fakePorts(clock);
  const storage = SqliteStorage.open(':memory:');
  const deviceLists = new DeviceListService(storage, new InProcessNotifier(), 'hs1');
  const local = new Map<string, DeviceRecord>([['D1', { userId: '@a:hs1', deviceId: 'D1', displayName: 'Phone', lastSeenIp: null, lastSeenTs: null }]]);
  const edus = attachDeviceListEdus(f.ports, {
    deviceLists,
    changeLog: storage.deviceLists,
    devices: { getDevice: async (_u, id) => local.get(id), listDevices: async () => [...local.values()] },
    remoteDevices: storage.remoteDevices,
    deviceKeys: async () => new Map([['D1', { user_id: '@a:hs1', device_id: 'D1', algorithms: [], keys: {}, signatures: {} }]]),
  });
  return { f, storage, deviceLists, local, edus };
}

test('outbound device lists: one EDU per device, chained by stream_id/prev_id, deletions marked', async () => {
  const { f, storage, deviceLists, local, edus } = deviceListSetup();
  await deviceLists.markChanged('@a:hs1', ['D1']);
  await deviceLists.markChanged('@r:hs2', []);
  local.delete('D1');
  await deviceLists.markChanged('@a:hs1', ['D1'], { deleted: true });
  await edus.idle();
  const updates = f.sent.filter((s) => s.eduType === 'm.device_list_update').map((s) => s.content);
  assert.equal(updates.length, 2, 'only local users are announced');
  const [added, deleted] = updates;
  assert.equal(added.device_display_name, 'Phone');
  assert.deepEqual(added.prev_id, []);
  assert.ok(added.keys);
  assert.equal(deleted.deleted, true);
  assert.deepEqual(deleted.prev_id, [added.stream_id]);
  assert.ok((deleted.stream_id as number) > (added.stream_id as number));
  assert.equal(await storage.deviceLists.lastChangeFor('@a:hs1'), deleted.stream_id);
  await storage.close();
});

test('inbound device lists: resync when uncached or on a gap, incremental updates on the chain, stale ones ignored', async () => {
  const { f, storage, edus } = deviceListSetup();
  let remoteStream = 5;
  f.answer(() => ({
    user_id: '@r:hs2',
    stream_id: remoteStream,
    devices: [{ device_id: 'A', keys: { device_id: 'A' }, device_display_name: 'Laptop' }],
    master_key: { user_id: '@r:hs2', usage: ['master'], keys: { 'ed25519:m': 'm' } },
    self_signing_key: { user_id: '@someone:else', usage: ['self_signing'], keys: {} },
  }));
  const update = (content: JsonObject) => f.deliver('hs2', 'm.device_list_update', { user_id: '@r:hs2', ...content }).then(() => edus.idle());
  const ids = async () => (await storage.remoteDevices.getDeviceList('@r:hs2'))?.devices.map((d) => d.deviceId);

  await update({ device_id: 'A', stream_id: 5, prev_id: [4] });
  assert.equal(f.fetched.length, 1);
  assert.deepEqual(f.fetched[0], `hs2 /_matrix/federation/v1/user/devices/${encodeURIComponent('@r:hs2')}`);
  assert.deepEqual(await storage.remoteDevices.getDeviceList('@r:hs2'), {
    streamId: 5,
    devices: [{ deviceId: 'A', displayName: 'Laptop', keys: { device_id: 'A' } }],
  });
  const cross = await storage.remoteDevices.getCrossSigningKeys('@r:hs2');
  assert.ok(cross.master);
  assert.equal(cross.selfSigning, undefined, 'a key of another user is not stored');

  await update({ device_id: 'B', stream_id: 6, prev_id: [5], device_display_name: 'Tablet' });
  await update({ device_id: 'A', stream_id: 7, prev_id: [6], deleted: true });
  assert.equal(f.fetched.length, 1, 'the chain continued');
  assert.deepEqual(await ids(), ['B']);
  assert.equal((await storage.remoteDevices.getDeviceList('@r:hs2'))?.streamId, 7);

  await update({ device_id: 'C', stream_id: 3, prev_id: [2] });
  assert.deepEqual(await ids(), ['B'], 'an old update changes nothing');

  remoteStream = 9;
  await update({ device_id: 'C', stream_id: 9, prev_id: [8] });
  assert.equal(f.fetched.length, 2, 'a missed update makes it resync');
  assert.deepEqual(await ids(), ['A']);

  f.answer(() => {
    throw new Error('hs2 is down');
  });
  await update({ device_id: 'D', stream_id: 12, prev_id: [11] });
  assert.equal(await storage.remoteDevices.getDeviceList('@r:hs2'), undefined, 'a failed resync forgets the cache');

  await f.deliver('hs3', 'm.device_list_update', { user_id: '@r:hs2', device_id: 'E', stream_id: 20, prev_id: [] });
  await edus.idle();
  assert.equal(f.fetched.length, 3, 'an update from another server is ignored');
  await storage.close();
});

test('a remote user who shares no room any more is no longer tracked', async () => {
  const { f, storage, edus } = deviceListSetup();
  await storage.remoteDevices.replaceDeviceList('@r:hs2', { streamId: 1, devices: [{ deviceId: 'A', displayName: null, keys: null }] });
  edus.memberLeft('@r:hs2');
  await edus.idle();
  assert.ok(await storage.remoteDevices.getDeviceList('@r:hs2'), 'still in a room');
  f.joinedAnywhere.delete('@r:hs2');
  edus.memberLeft('@r:hs2');
  await edus.idle();
  assert.equal(await storage.remoteDevices.getDeviceList('@r:hs2'), undefined);
  await storage.close();
});

test('a local join announces the user’s current devices to the room’s servers at the current position', async () => {
  const { f, storage, deviceLists, edus } = deviceListSetup();
  await deviceLists.markChanged('@a:hs1', ['D1']);
  await edus.idle();
  f.sent.length = 0;
  await edus.localJoined('!room:hs1', '@a:hs1');
  const streamId = await storage.deviceLists.lastChangeFor('@a:hs1');
  assert.deepEqual(
    f.sent.map((s) => [s.destinations, s.content.device_id, s.content.stream_id]),
    [[['hs2'], 'D1', streamId]],
  );
  await storage.close();
});
