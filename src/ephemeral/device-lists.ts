/**
 * Device-list changes (`device_lists.changed` / `left` in incremental syncs), so clients doing
 * end-to-end encryption know whose device keys to re-fetch. A user appears in `changed` when
 * their devices changed (new login, deletion, rename; later key uploads) and they share a room
 * with the viewer, or when they newly share a room with the viewer (either side joined). A user
 * appears in `left` when the viewer and they no longer share any room.
 */
import { domainOf } from '../core/pdu.js';
import type { Notifier } from '../notifier.js';
import type { Storage } from '../storage/storage.js';
import type { SyncToken } from '../sync/sync-token.js';
import { Listeners } from './listeners.js';
import { joinedRoomIds, type MembershipMoves, sharingRoomWith } from './shared-rooms.js';

export interface DeviceListDelta {
  changed: string[];
  left: string[];
}

/** A local user's device-list change, at its position in the device-list stream. */
export interface LocalDeviceListChange {
  userId: string;
  streamId: number;
  /** The devices concerned; empty when the change is not about particular devices (e.g. cross-signing keys). */
  devices: ReadonlyArray<{ deviceId: string; deleted: boolean }>;
}

export class DeviceListService {
  /** A local user's device list changed (for the federation sender: `m.device_list_update` EDUs). */
  readonly localChanges: Listeners<[LocalDeviceListChange]>;

  constructor(
    private readonly storage: Storage,
    private readonly notifier: Notifier,
    private readonly serverName: string,
    onListenerError?: (err: unknown) => void,
  ) {
    this.localChanges = new Listeners(onListenerError);
  }

  /** The user's devices changed (added, deleted, renamed, keys uploaded); `deviceIds` names them. */
  async markChanged(userId: string, deviceIds: readonly string[] = [], opts: { deleted?: boolean } = {}): Promise<void> {
    const streamId = await this.record(userId);
    if (domainOf(userId) !== this.serverName) return;
    this.localChanges.emit({ userId, streamId, devices: deviceIds.map((deviceId) => ({ deviceId, deleted: opts.deleted === true })) });
  }

  /** A remote user's device list changed (from their server's EDU). */
  async applyRemote(userId: string): Promise<void> {
    await this.record(userId);
  }

  currentPosition(): Promise<number> {
    return this.storage.deviceLists.currentStreamId();
  }

  /**
   * Only incremental syncs carry device-list changes. `moves`: the membership changes concerning
   * the viewer in (since.events, current.events] (none when the events stream did not move).
   */
  async changesFor(viewer: string, since: SyncToken, current: SyncToken, moves: MembershipMoves | undefined): Promise<DeviceListDelta> {
    const events = this.storage.events;
    const changed = new Set<string>();
    const updated = await this.storage.deviceLists.changedBetween(since.deviceLists, current.deviceLists);
    if (updated.includes(viewer)) changed.add(viewer);
    for (const u of await sharingRoomWith(events, viewer, updated.filter((u) => u !== viewer))) changed.add(u);
    // Everyone who newly shares a room with the viewer: their devices are new to the viewer.
    for (const u of moves?.joined ?? []) changed.add(u);
    const leftCandidates = [...(moves?.left ?? [])];
    const stillShared = leftCandidates.length > 0 ? await sharingRoomWith(events, viewer, leftCandidates) : new Set<string>();
    const left = leftCandidates.filter((u) => !stillShared.has(u));
    for (const u of left) changed.delete(u);
    return { changed: [...changed], left };
  }

  private async record(userId: string): Promise<number> {
    const streamId = await this.storage.deviceLists.markChanged([userId]);
    this.notifier.notify('device_lists', [userId, ...(await joinedRoomIds(this.storage.events, userId))]);
    return streamId;
  }
}
