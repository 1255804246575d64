/**
 * Connects the per-user real-time services to federation: presence, send-to-device messages,
 * device lists and cross-signing keys go out as EDUs and come in through the EDU registry (see the
 * attach* modules). Room membership changes feed presence (a newly shared room gets the current
 * presence), device lists (a local join announces the user's devices to the room's servers) and
 * the remote device-list cache (dropped once a user shares no room with us).
 */
import type { JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import type { DeviceListService } from '../../src/ephemeral/device-lists.js';
import type { PresenceService } from '../../src/ephemeral/presence.js';
import { joinedRoomIds } from '../../src/ephemeral/shared-rooms.js';
import type { ToDeviceService } from '../../src/ephemeral/to-device.js';
import type { Hooks } from '../../src/hooks.js';
import type { Logger } from '../../src/logger.js';
import type { EventPipeline } from '../../src/room-engine/event-pipeline.js';
import type { Storage } from '../../src/storage/storage.js';
import type { Federation } from '../federation.js';
import { attachDeviceListEdus } from './device-list-edus.js';
import type { EduPorts } from './edu-ports.js';
import { attachPresenceEdus, type PresenceEduOptions } from './presence-edus.js';
import { attachSigningKeyEdus } from './signing-key-edus.js';
import { attachToDeviceEdus } from './to-device-edus.js';

export interface UserEduDeps {
  federation: Federation;
  pipeline: Pick<EventPipeline, 'onPersisted'>;
  storage: Storage;
  hooks: Hooks;
  presence: PresenceService;
  toDevice: ToDeviceService;
  deviceLists: DeviceListService;
  logger: Logger;
  now: () => number;
  presenceOptions?: PresenceEduOptions;
}

/** Returns the function that stops the presence timers (at shutdown). */
export function attachUserEdus(d: UserEduDeps): { close(): void } {
  const { federation, storage } = d;
  const events = storage.events;
  const ports: EduPorts = {
    serverName: federation.serverName,
    registerEduHandler: (type, handler) => federation.registerEduHandler(type, handler),
    sendEdu: (destinations, type, content, key) => federation.sender.sendEdu(destinations, type, content, key),
    serversInRoom: (roomId) => federation.sender.serversInRoom(roomId),
    async serversSharingRoomWith(userId) {
      const servers = new Set<string>();
      for (const roomId of await joinedRoomIds(events, userId)) for (const s of await federation.sender.serversInRoom(roomId)) servers.add(s);
      servers.delete(federation.serverName);
      return [...servers];
    },
    joinedMembers: async (roomId) => (await events.getRoomMembers(roomId, ['join'])).map((m) => m.userId),
    isJoinedAnywhere: async (userId) => (await joinedRoomIds(events, userId)).length > 0,
    fetch: (destination, path) => federation.client.request<JsonObject>(destination, 'GET', path),
    logger: d.logger,
    now: d.now,
  };

  const presence = attachPresenceEdus(ports, d.presence, d.presenceOptions);
  attachToDeviceEdus(ports, d.toDevice);
  const deviceLists = attachDeviceListEdus(ports, {
    deviceLists: d.deviceLists,
    changeLog: storage.deviceLists,
    devices: storage.devices,
    remoteDevices: storage.remoteDevices,
    deviceKeys: (userId, ids) => federation.deviceKeys.keysFor(userId, ids),
  });
  attachSigningKeyEdus(ports, { hooks: d.hooks, remoteDevices: storage.remoteDevices, deviceLists: d.deviceLists });

  d.pipeline.onPersisted(({ event }) => {
    if (event.type !== 'm.room.member' || event.stateKey === undefined) return;
    const membership = event.content.membership;
    if (membership === 'join') {
      void presence.memberJoined(event.roomId, event.stateKey);
      // A profile change is a join too; repeating the devices then is harmless.
      if (domainOf(event.stateKey) === federation.serverName) void deviceLists.localJoined(event.roomId, event.stateKey);
    }
    else if ((membership === 'leave' || membership === 'ban') && domainOf(event.stateKey) !== federation.serverName) deviceLists.memberLeft(event.stateKey);
  });

  return { close: () => presence.close() };
}
