/**
 * The parts of a sync response that come from the real-time streams (typing, receipts, presence,
 * to-device, device lists), shared by /sync and WebSocket sync through SyncBuilder. Each stream's
 * service answers "changes for this user between positions a and b"; this module only picks the
 * rooms and applies the filter.
 */
import type { JsonObject } from '../core/json.js';
import type { DeviceListDelta, DeviceListService } from '../ephemeral/device-lists.js';
import type { PresenceService } from '../ephemeral/presence.js';
import { membershipMoves } from '../ephemeral/shared-rooms.js';
import type { ReceiptsService } from '../ephemeral/receipts.js';
import type { ToDeviceService } from '../ephemeral/to-device.js';
import type { TypingService } from '../ephemeral/typing.js';
import type { EventStore } from '../storage/event-store.js';
import { accountDataPasses, eventPasses, type Filter, roomPasses } from '../sync/filter.js';
import type { SyncToken } from '../sync/sync-token.js';
import type { MaybePromise } from './maybe-promise.js';

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
  /** False when no membership event happened in (since.events, current.events] (undefined: not known). */
  membershipsChanged?: boolean;
  /** The to-device position the client has acknowledged, when it is behind `since` (WebSocket sync). */
  toDeviceAck?: number;
}

/** What the to-device checks need of a request. */
type DeviceRequest = Pick<RealtimeRequest, 'userId' | 'deviceId' | 'since' | 'current' | 'toDeviceAck'>;

export interface RealtimeSections {
  /** Per joined room: its `ephemeral.events`. (Read only: the empty sections are shared.) */
  ephemeral: ReadonlyMap<string, readonly JsonObject[]>;
  /** `presence.events`. */
  presence: readonly JsonObject[];
  /** `to_device.events` for the requesting device. */
  toDevice: readonly JsonObject[];
  /** Where the to-device stream resumes: `current.toDevice` unless the batch was cut short. */
  toDeviceUpTo: number;
  /** `device_lists` (incremental syncs only). */
  deviceLists: DeviceListDelta;
}

let lastEmpty: { current: SyncToken; sections: RealtimeSections } | undefined;

/** Sections with nothing in them, shared by the builds at one position (read only). */
export function emptySections(current: SyncToken): RealtimeSections {
  if (lastEmpty?.current !== current) {
    const sections = { ephemeral: new Map(), presence: [], toDevice: [], toDeviceUpTo: current.toDevice, deviceLists: { changed: [], left: [] } };
    lastEmpty = { current, sections };
  }
  return lastEmpty.sections;
}

const MAX_ACKED_USERS = 20_000;

export class RealtimeSync {
  /**
   * Per user, per device: the to-device position this process last acknowledged for it. Two
   * levels rather than a `user|device` key: a caught-up long poll looks here on every return, and
   * building the key string (and hashing it anew) was a measurable part of that.
   */
  private readonly acked = new Map<string, Map<string, number>>();

  constructor(
    private readonly services: RealtimeServices,
    private readonly events: EventStore,
  ) {}

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

  sections(req: RealtimeRequest): MaybePromise<RealtimeSections> {
    const { since, current } = req;
    // The common woken sync: only room events moved, memberships did not, nothing for the device.
    if (
      since !== undefined &&
      since.typing === current.typing &&
      since.receipts === current.receipts &&
      since.presence === current.presence &&
      since.deviceLists === current.deviceLists &&
      (since.events === current.events || req.membershipsChanged === false) &&
      this.toDeviceSettled(req)
    ) {
      return emptySections(current);
    }
    return this.readSections(req);
  }

  private async readSections(req: RealtimeRequest): Promise<RealtimeSections> {
    const { since, current, filter } = req;
    const ephFilter = filter.room.ephemeral;
    const ephemeral = new Map<string, JsonObject[]>();
    const add = (roomId: string, ev: JsonObject) => {
      // Only the type conditions apply: an ephemeral event has no single sender.
      if (!accountDataPasses(ephFilter, ev.type as string)) return;
      const list = ephemeral.get(roomId);
      if (list) list.push(ev);
      else ephemeral.set(roomId, [ev]);
    };
    // A stream that did not move since the token has nothing to say: skip its reads (a woken long
    // poll usually has news on one stream only).
    const moved = (s: 'typing' | 'receipts' | 'presence' | 'deviceLists') => since === undefined || since[s] < current[s];
    if (ephFilter.limit !== 0 && (moved('typing') || moved('receipts'))) {
      const rooms = req.joinedRooms.filter((r) => roomPasses(ephFilter, r));
      if (moved('typing')) {
        for (const [roomId, ev] of this.services.typing.changesFor(rooms, since?.typing ?? 0, current.typing)) add(roomId, ev);
      }
      if (moved('receipts')) {
        const receipts = await this.services.receipts.changesFor(req.userId, rooms, since?.receipts ?? 0, current.receipts);
        for (const [roomId, ev] of receipts) add(roomId, ev);
      }
    }
    // Who came to share a room with the user (or stopped) since the last sync: device lists and presence follow memberships.
    const membersMoved = since !== undefined && since.events < current.events && req.membershipsChanged !== false;
    const moves = membersMoved ? await membershipMoves(this.events, req.userId, since.events, current.events, req.joinedRooms) : undefined;
    let presence: JsonObject[] = [];
    if (filter.presence.limit !== 0) {
      if (moved('presence')) presence = await this.services.presence.changesFor(req.userId, since?.presence ?? 0, current.presence, req.joinedRooms);
      // Users newly sharing a room: their current presence, which this user may never have been sent.
      if (moves && moves.joined.size > 0) {
        const listed = new Set(presence.map((e) => e.sender));
        presence.push(...this.services.presence.currentOf([...moves.joined].filter((u) => !listed.has(u))));
      }
      presence = presence.filter((e) => eventPasses(filter.presence, { type: 'm.presence', sender: e.sender as string }));
      if (filter.presence.limit !== undefined) presence = presence.slice(0, filter.presence.limit);
    }
    const td = await this.toDevice(req);
    const deviceLists =
      since && (moved('deviceLists') || moves)
        ? await this.services.deviceLists.changesFor(req.userId, since, current, moves)
        : { changed: [], left: [] };
    return { ephemeral, presence, toDevice: td.events, toDeviceUpTo: td.upTo, deviceLists };
  }

  /** Nothing to read for the device: no new messages and the token's acknowledgement already done. */
  toDeviceSettled(req: DeviceRequest): boolean {
    const from = req.since?.toDevice ?? 0;
    // The position first: it is all most calls need.
    return from >= req.current.toDevice && (this.acked.get(req.userId)?.get(req.deviceId) ?? -1) >= Math.min(req.toDeviceAck ?? from, from);
  }

  /**
   * The device's to-device batch. Reading it also acknowledges (deletes) what the token covers, so
   * it is read even when the stream did not move, unless this process already acknowledged that far.
   */
  private async toDevice(req: RealtimeRequest): Promise<{ events: JsonObject[]; upTo: number }> {
    if (this.toDeviceSettled(req)) return { events: [], upTo: req.current.toDevice };
    const { from, ack } = toDeviceRange(req);
    const td = await this.services.toDevice.changesFor(req.userId, req.deviceId, from, req.current.toDevice, ack);
    // Users are kept in order of their last acknowledgement; past the bound the oldest is forgotten.
    const devices = this.acked.get(req.userId) ?? new Map<string, number>();
    this.acked.delete(req.userId);
    this.acked.set(req.userId, devices);
    devices.set(req.deviceId, ack);
    if (this.acked.size > MAX_ACKED_USERS) this.acked.delete(this.acked.keys().next().value as string);
    return td;
  }
}

/** Where the device's to-device batch starts, and how far the client has acknowledged. */
function toDeviceRange(req: DeviceRequest): { from: number; ack: number } {
  const from = req.since?.toDevice ?? 0;
  return { from, ack: Math.min(req.toDeviceAck ?? from, from) };
}

