/**
 * The parts of a sync response that come from the real-time streams (typing, receipts, presence,
 * to-device, device lists), shared by /sync and WebSocket sync through SyncBuilder. Each stream's
 * service answers "changes for this user between positions a and b"; this module only picks the
 * rooms and applies the filter.
 */
import type { JsonObject } from '../core/json.js';
import type { DeviceListDelta, DeviceListService } from '../ephemeral/device-lists.js';
import type { PresenceService } from '../ephemeral/presence.js';
import type { ReceiptsService } from '../ephemeral/receipts.js';
import type { ToDeviceService } from '../ephemeral/to-device.js';
import type { TypingService } from '../ephemeral/typing.js';
import { accountDataPasses, eventPasses, type Filter, roomPasses } from '../sync/filter.js';
import type { SyncToken } from '../sync/sync-token.js';

export interface RealtimeServices {
  typing: TypingService;
  receipts: ReceiptsService;
  presence: PresenceService;
  toDevice: ToDeviceService;
  deviceLists: DeviceListService;
}

export interface RealtimeRequest {
  userId: string;
  deviceId: string;
  since: SyncToken | undefined;
  current: SyncToken;
  filter: Filter;
  /** Rooms the user is joined to as of `current.events`. */
  joinedRooms: readonly string[];
}

export interface RealtimeSections {
  /** Per joined room: its `ephemeral.events`. */
  ephemeral: Map<string, JsonObject[]>;
  /** `presence.events`. */
  presence: JsonObject[];
  /** `to_device.events` for the requesting device. */
  toDevice: JsonObject[];
  /** Where the to-device stream resumes: `current.toDevice` unless the batch was cut short. */
  toDeviceUpTo: number;
  /** `device_lists` (incremental syncs only). */
  deviceLists: DeviceListDelta;
}

export function emptySections(current: SyncToken): RealtimeSections {
  return { ephemeral: new Map(), presence: [], toDevice: [], toDeviceUpTo: current.toDevice, deviceLists: { changed: [], left: [] } };
}

export class RealtimeSync {
  constructor(private readonly services: RealtimeServices) {}

  /** Every real-time stream's position now (the events and account-data positions come from storage). */
  async positions(): Promise<Partial<SyncToken>> {
    return {
      typing: this.services.typing.currentPosition(),
      receipts: await this.services.receipts.currentPosition(),
      presence: this.services.presence.currentPosition(),
      toDevice: await this.services.toDevice.currentPosition(),
      deviceLists: await this.services.deviceLists.currentPosition(),
    };
  }

  async sections(req: RealtimeRequest): Promise<RealtimeSections> {
    const { since, current, filter } = req;
    const ephFilter = filter.room.ephemeral;
    const rooms = req.joinedRooms.filter((r) => roomPasses(ephFilter, r));
    const ephemeral = new Map<string, JsonObject[]>();
    const add = (roomId: string, ev: JsonObject) => {
      // Only the type conditions apply: an ephemeral event has no single sender.
      if (!accountDataPasses(ephFilter, ev.type as string)) return;
      const list = ephemeral.get(roomId);
      if (list) list.push(ev);
      else ephemeral.set(roomId, [ev]);
    };
    if (ephFilter.limit !== 0) {
      for (const [roomId, ev] of this.services.typing.changesFor(rooms, since?.typing ?? 0, current.typing)) add(roomId, ev);
      const receipts = await this.services.receipts.changesFor(req.userId, rooms, since?.receipts ?? 0, current.receipts);
      for (const [roomId, ev] of receipts) add(roomId, ev);
    }
    let presence: JsonObject[] = [];
    if (filter.presence.limit !== 0) {
      presence = (await this.services.presence.changesFor(req.userId, since?.presence ?? 0, current.presence)).filter((e) =>
        eventPasses(filter.presence, { type: 'm.presence', sender: e.sender as string }),
      );
      if (filter.presence.limit !== undefined) presence = presence.slice(0, filter.presence.limit);
    }
    const td = await this.services.toDevice.changesFor(req.userId, req.deviceId, since?.toDevice ?? 0, current.toDevice);
    const deviceLists = since
      ? await this.services.deviceLists.changesFor(req.userId, since, current, req.joinedRooms)
      : { changed: [], left: [] };
    return { ephemeral, presence, toDevice: td.events, toDeviceUpTo: td.upTo, deviceLists };
  }
}
