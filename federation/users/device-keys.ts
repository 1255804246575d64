/**
 * What other servers may learn about local users' devices and end-to-end keys
 * (`user/devices`, `user/keys/query`, `user/keys/claim`). Device IDs and names come from the
 * device store; identity keys, one-time keys and cross-signing keys come from an `E2eeKeySource`
 * that the end-to-end encryption module plugs in. Until it does, no device has keys, so the
 * answers are well-formed and empty.
 */
import { isUserId } from '../../src/accounts/user-ids.js';
import type { JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import { invalidParam } from '../../src/http/errors.js';
import type { DeviceStore } from '../../src/storage/storage.js';

export interface E2eeKeySource {
  /** Signed device keys (`DeviceKeys`) of a user's devices, by device ID (devices without keys are absent). */
  deviceKeys(userId: string, deviceIds: readonly string[]): Promise<Map<string, JsonObject>>;
  /** Claims one key of `algorithm` for the device (one-time, else fallback): `{ "alg:id": key }`, or undefined. */
  claimKey(userId: string, deviceId: string, algorithm: string): Promise<JsonObject | undefined>;
  /** Cross-signing keys a remote server may see. */
  crossSigningKeys(userId: string): Promise<{ master?: JsonObject; selfSigning?: JsonObject }>;
}

const noKeys: E2eeKeySource = {
  deviceKeys: async () => new Map(),
  claimKey: async () => undefined,
  crossSigningKeys: async () => ({}),
};

export class DeviceKeysService {
  private source: E2eeKeySource = noKeys;

  constructor(
    private readonly serverName: string,
    private readonly devices: Pick<DeviceStore, 'listDevices'>,
    /** The user's latest position in the device-list stream: the `stream_id` that `m.device_list_update` EDUs continue from. */
    private readonly streamIdOf: (userId: string) => Promise<number>,
  ) {}

  /** For the end-to-end encryption module. */
  setKeySource(source: E2eeKeySource): void {
    this.source = source;
  }

  /** Signed identity keys of a local user's devices (devices without keys are absent). */
  keysFor(userId: string, deviceIds: readonly string[]): Promise<Map<string, JsonObject>> {
    return this.source.deviceKeys(userId, deviceIds);
  }

  private requireLocal(userId: string): void {
    if (!isUserId(userId)) throw invalidParam(`${userId} is not a valid user ID`);
    if (domainOf(userId) !== this.serverName) throw invalidParam(`${userId} is not a user of ${this.serverName}`);
  }

  /** `GET /user/devices/{userId}`: the user's devices that have keys (the response requires `keys`). */
  async userDevices(userId: string): Promise<JsonObject> {
    this.requireLocal(userId);
    const devices = await this.devices.listDevices(userId);
    const keys = await this.source.deviceKeys(userId, devices.map((d) => d.deviceId));
    const list: JsonObject[] = [];
    for (const d of devices) {
      const k = keys.get(d.deviceId);
      if (!k) continue;
      const entry: JsonObject = { device_id: d.deviceId, keys: k };
      if (d.displayName !== null) entry.device_display_name = d.displayName;
      list.push(entry);
    }
    const out: JsonObject = { user_id: userId, stream_id: await this.streamIdOf(userId), devices: list };
    const cross = await this.source.crossSigningKeys(userId);
    if (cross.master) out.master_key = cross.master;
    if (cross.selfSigning) out.self_signing_key = cross.selfSigning;
    return out;
  }

  /** `POST /user/keys/query`: device keys of local users (an empty list asks for every device). */
  async queryKeys(request: Record<string, readonly string[]>): Promise<JsonObject> {
    const deviceKeys: JsonObject = {};
    const master: JsonObject = {};
    const selfSigning: JsonObject = {};
    for (const [userId, wanted] of Object.entries(request)) {
      if (domainOf(userId) !== this.serverName) continue;
      const ids = wanted.length > 0 ? wanted : (await this.devices.listDevices(userId)).map((d) => d.deviceId);
      deviceKeys[userId] = Object.fromEntries(await this.source.deviceKeys(userId, ids));
      const cross = await this.source.crossSigningKeys(userId);
      if (cross.master) master[userId] = cross.master;
      if (cross.selfSigning) selfSigning[userId] = cross.selfSigning;
    }
    const out: JsonObject = { device_keys: deviceKeys };
    if (Object.keys(master).length > 0) out.master_keys = master;
    if (Object.keys(selfSigning).length > 0) out.self_signing_keys = selfSigning;
    return out;
  }

  /** `POST /user/keys/claim`: one key per requested device of local users, where one exists. */
  async claimKeys(request: Record<string, Record<string, string>>): Promise<JsonObject> {
    const out: JsonObject = {};
    for (const [userId, devices] of Object.entries(request)) {
      if (domainOf(userId) !== this.serverName) continue;
      const claimed: JsonObject = {};
      for (const [deviceId, algorithm] of Object.entries(devices)) {
        const key = await this.source.claimKey(userId, deviceId, algorithm);
        if (key) claimed[deviceId] = key;
      }
      if (Object.keys(claimed).length > 0) out[userId] = claimed;
    }
    return { one_time_keys: out };
  }
}
