/**
 * Device lists across servers (`m.device_list_update`).
 *
 * Outbound: each change of a local user's devices becomes one EDU per device for the servers
 * sharing a room with the user, and a local user's join sends the current devices to the room's
 * servers (which may not have been receiving them). The user's position in the device-list stream is the EDU's
 * `stream_id`, and `prev_id` names the user's previous position, so the updates of one user form
 * a chain (the positions of one user only grow, and `user/devices` reports the latest).
 *
 * Inbound: updates of a user are handled one at a time, and only from the user's own server for a
 * user joined to some room here. A user's list is cached (store: remoteDevices) once resynced:
 *  - an update whose `prev_id`s are all at or below the cached position extends the chain and is
 *    applied to the cache (a device replaced, or removed when `deleted`);
 *  - one below the cached position is old news and ignored;
 *  - otherwise an update was missed (or nothing is cached yet): the list is fetched again with
 *    `GET /user/devices/{userId}` from the user's server and replaces the cache.
 * Either way local users sharing a room see the user in `device_lists.changed`. The cache is
 * dropped when the user no longer shares any room with this server.
 */
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import type { DeviceListService, LocalDeviceListChange } from '../../src/ephemeral/device-lists.js';
import type { DeviceListStore } from '../../src/storage/ephemeral-store.js';
import type { RemoteDevice, RemoteDeviceStore } from '../../src/storage/remote-device-store.js';
import type { DeviceStore } from '../../src/storage/storage.js';
import { type EduPorts, ignoredEdu } from './edu-ports.js';

export interface DeviceListEduDeps {
  deviceLists: DeviceListService;
  changeLog: Pick<DeviceListStore, 'lastChangeFor'>;
  devices: Pick<DeviceStore, 'getDevice' | 'listDevices'>;
  remoteDevices: RemoteDeviceStore;
  /** Signed identity keys of a local user's devices (absent for devices without keys). */
  deviceKeys(userId: string, deviceIds: readonly string[]): Promise<Map<string, JsonObject>>;
}

export interface DeviceListEdus {
  /** A remote user left a room: stop tracking their devices if they share no room with us any more. */
  memberLeft(userId: string): void;
  /**
   * A local user joined a room: its servers may not be receiving the user's device-list updates
   * yet, so they get the current devices at the user's current position (a server that already
   * has that position takes it as a repeat; one that has nothing cached resyncs).
   */
  localJoined(roomId: string, userId: string): Promise<void>;
  /** Resolves once the work queued so far for every user is done (tests, shutdown). */
  idle(): Promise<void>;
}

const EDU = 'm.device_list_update';

export function attachDeviceListEdus(ports: EduPorts, d: DeviceListEduDeps): DeviceListEdus {
  /** Work per user runs in order: chains out, updates and resyncs in. */
  const perUser = new Map<string, Promise<void>>();
  const serial = (userId: string, work: () => Promise<void>): Promise<void> => {
    const next = (perUser.get(userId) ?? Promise.resolve()).then(work);
    const settled = next.catch(() => undefined);
    perUser.set(userId, settled);
    void settled.then(() => {
      if (perUser.get(userId) === settled) perUser.delete(userId);
    });
    return next;
  };

  d.deviceLists.localChanges.on((change) => {
    serial(change.userId, () => announce(change)).catch((err) =>
      ports.logger.error({ err, userId: change.userId }, 'could not queue device-list EDUs'),
    );
  });

  async function announce(change: LocalDeviceListChange, to?: string[]): Promise<void> {
    const { userId, streamId } = change;
    const servers = to ?? (await ports.serversSharingRoomWith(userId));
    if (servers.length === 0) return;
    const prev = await d.changeLog.lastChangeFor(userId, streamId);
    // A change not about particular devices (e.g. keys) is announced for every current device.
    const devices =
      change.devices.length > 0 ? change.devices : (await d.devices.listDevices(userId)).map((x) => ({ deviceId: x.deviceId, deleted: false }));
    const keys = await d.deviceKeys(userId, devices.filter((x) => !x.deleted).map((x) => x.deviceId));
    for (const { deviceId, deleted } of devices) {
      const content: JsonObject = { user_id: userId, device_id: deviceId, stream_id: streamId, prev_id: prev > 0 ? [prev] : [] };
      const record = deleted ? undefined : await d.devices.getDevice(userId, deviceId);
      if (!record) content.deleted = true;
      else {
        if (record.displayName !== null) content.device_display_name = record.displayName;
        const k = keys.get(deviceId);
        if (k) content.keys = k;
      }
      await ports.sendEdu(servers, EDU, content);
    }
  }

  ports.registerEduHandler(EDU, (origin, content) => {
    const { user_id: userId, device_id: deviceId, stream_id: streamId, prev_id: prevRaw } = content;
    if (typeof userId !== 'string' || typeof deviceId !== 'string' || typeof streamId !== 'number') {
      ignoredEdu(ports, origin, EDU, 'malformed device-list update');
      return;
    }
    if (domainOf(userId) !== origin) {
      ignoredEdu(ports, origin, EDU, `${userId} does not belong to ${origin}`, { userId });
      return;
    }
    const prev = Array.isArray(prevRaw) ? prevRaw.filter((p): p is number => typeof p === 'number') : [];
    const device: RemoteDevice = {
      deviceId,
      displayName: typeof content.device_display_name === 'string' ? content.device_display_name : null,
      keys: isJsonObject(content.keys) ? content.keys : null,
    };
    // Not awaited: a resync is a request back to the origin, which must not hold up its transaction.
    serial(userId, () => receive(origin, userId, streamId, prev, device, content.deleted === true)).catch((err) =>
      ports.logger.error({ err, origin, userId }, 'could not apply a device-list update'),
    );
  });

  async function receive(origin: string, userId: string, streamId: number, prev: number[], device: RemoteDevice, deleted: boolean): Promise<void> {
    if (!(await ports.isJoinedAnywhere(userId))) {
      ignoredEdu(ports, origin, EDU, `${userId} shares no room with this server`, { userId });
      return;
    }
    const known = await d.remoteDevices.getDeviceList(userId);
    if (known && streamId < known.streamId) return;
    if (known && prev.every((p) => p <= known.streamId)) {
      await d.remoteDevices.applyDeviceUpdate(userId, streamId, device, deleted);
    } else {
      await resync(origin, userId, known ? 'gap in prev_id' : 'not cached');
    }
    await d.deviceLists.applyRemote(userId);
  }

  async function resync(origin: string, userId: string, reason: string): Promise<void> {
    ports.logger.info({ origin, userId, reason }, 'resyncing a remote device list');
    try {
      const res = await ports.fetch(origin, `/_matrix/federation/v1/user/devices/${encodeURIComponent(userId)}`);
      if (res.user_id !== userId || typeof res.stream_id !== 'number' || !Array.isArray(res.devices)) throw new Error('malformed user/devices response');
      const devices: RemoteDevice[] = [];
      for (const x of res.devices) {
        if (!isJsonObject(x) || typeof x.device_id !== 'string') continue;
        devices.push({
          deviceId: x.device_id,
          displayName: typeof x.device_display_name === 'string' ? x.device_display_name : null,
          keys: isJsonObject(x.keys) ? x.keys : null,
        });
      }
      await d.remoteDevices.replaceDeviceList(userId, { streamId: res.stream_id, devices });
      const master = validCrossSigningKey(res.master_key, userId, 'master');
      const selfSigning = validCrossSigningKey(res.self_signing_key, userId, 'self_signing');
      await d.remoteDevices.setCrossSigningKeys(userId, { master, selfSigning });
    } catch (err) {
      // Without a trustworthy base the next update must resync again.
      await d.remoteDevices.dropDeviceList(userId);
      ports.logger.warn({ origin, userId, err: err instanceof Error ? err.message : String(err) }, 'device-list resync failed');
    }
  }

  return {
    localJoined(roomId, userId) {
      return serial(userId, async () => {
        const servers = (await ports.serversInRoom(roomId)).filter((x) => x !== ports.serverName);
        const streamId = await d.changeLog.lastChangeFor(userId);
        await announce({ userId, streamId, devices: [] }, servers);
      }).catch((err) => ports.logger.error({ err, userId, roomId }, 'could not announce devices to a room'));
    },
    async idle() {
      while (perUser.size > 0) await Promise.all(perUser.values());
    },
    memberLeft(userId) {
      if (domainOf(userId) === ports.serverName) return;
      void serial(userId, async () => {
        if (!(await ports.isJoinedAnywhere(userId))) await d.remoteDevices.dropDeviceList(userId);
      }).catch((err) => ports.logger.error({ err, userId }, 'could not drop a remote device list'));
    },
  };
}

/** The key if it is a cross-signing key of `userId` with `usage`; undefined otherwise. */
export function validCrossSigningKey(key: unknown, userId: string, usage: 'master' | 'self_signing'): JsonObject | undefined {
  if (!isJsonObject(key) || key.user_id !== userId || !isJsonObject(key.keys)) return undefined;
  return Array.isArray(key.usage) && key.usage.includes(usage) ? key : undefined;
}
