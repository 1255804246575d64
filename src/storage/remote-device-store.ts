/**
 * Other servers' users' devices, as their servers told us (`m.device_list_update` EDUs and
 * `GET /user/devices` resyncs), and their cross-signing keys (`m.signing_key_update`). A remote
 * user's device list is cached only while it is tracked: `getDeviceList` answers undefined for an
 * untracked user, whose next update therefore triggers a full resync.
 */
import type { JsonObject } from '../core/json.js';

export interface RemoteDevice {
  deviceId: string;
  displayName: string | null;
  /** The device's signed identity keys (`DeviceKeys`), when it has any. */
  keys: JsonObject | null;
}

export interface RemoteDeviceList {
  /** The `stream_id` of the last update applied (or of the resync). */
  streamId: number;
  devices: RemoteDevice[];
}

export interface RemoteCrossSigningKeys {
  master?: JsonObject;
  selfSigning?: JsonObject;
}

export interface RemoteDeviceStore {
  getDeviceList(userId: string): Promise<RemoteDeviceList | undefined>;
  /** Replaces the cached list (a resync); the user is tracked from now on. */
  replaceDeviceList(userId: string, list: RemoteDeviceList): Promise<void>;
  /** Applies one incremental update to a tracked list: the device is replaced, or removed when `deleted`. */
  applyDeviceUpdate(userId: string, streamId: number, device: RemoteDevice, deleted: boolean): Promise<void>;
  /** Stops tracking the user (no shared room any more, or the cache can no longer be trusted). */
  dropDeviceList(userId: string): Promise<void>;
  /** Stores the given keys, leaving a kind that is absent unchanged. */
  setCrossSigningKeys(userId: string, keys: RemoteCrossSigningKeys): Promise<void>;
  getCrossSigningKeys(userId: string): Promise<RemoteCrossSigningKeys>;
}
