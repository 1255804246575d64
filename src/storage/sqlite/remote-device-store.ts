/** SQLite implementation of the remote device-list cache and remote cross-signing keys. */
import type Database from 'better-sqlite3';
import type { JsonObject } from '../../core/json.js';
import type { RemoteCrossSigningKeys, RemoteDevice, RemoteDeviceList, RemoteDeviceStore } from '../remote-device-store.js';

interface DeviceRow {
  device_id: string;
  display_name: string | null;
  keys: string | null;
}

export class SqliteRemoteDeviceStore implements RemoteDeviceStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      list: db.prepare('SELECT stream_id FROM remote_device_lists WHERE user_id = ?').pluck(),
      devices: db.prepare('SELECT device_id, display_name, keys FROM remote_devices WHERE user_id = ? ORDER BY device_id'),
      putList: db.prepare(
        'INSERT INTO remote_device_lists (user_id, stream_id) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET stream_id = excluded.stream_id',
      ),
      dropList: db.prepare('DELETE FROM remote_device_lists WHERE user_id = ?'),
      dropDevices: db.prepare('DELETE FROM remote_devices WHERE user_id = ?'),
      dropDevice: db.prepare('DELETE FROM remote_devices WHERE user_id = ? AND device_id = ?'),
      putDevice: db.prepare(
        `INSERT INTO remote_devices (user_id, device_id, display_name, keys) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, device_id) DO UPDATE SET display_name = excluded.display_name, keys = excluded.keys`,
      ),
      putKey: db.prepare(
        `INSERT INTO remote_cross_signing_keys (user_id, key_type, key_json) VALUES (?, ?, ?)
         ON CONFLICT (user_id, key_type) DO UPDATE SET key_json = excluded.key_json`,
      ),
      keys: db.prepare('SELECT key_type, key_json FROM remote_cross_signing_keys WHERE user_id = ?'),
    };
  }

  async getDeviceList(userId: string): Promise<RemoteDeviceList | undefined> {
    const streamId = this.q.list.get(userId) as number | undefined;
    if (streamId === undefined) return undefined;
    const devices = (this.q.devices.all(userId) as DeviceRow[]).map((r) => ({
      deviceId: r.device_id,
      displayName: r.display_name,
      keys: r.keys === null ? null : (JSON.parse(r.keys) as JsonObject),
    }));
    return { streamId, devices };
  }

  async replaceDeviceList(userId: string, list: RemoteDeviceList): Promise<void> {
    this.db.transaction(() => {
      this.q.dropDevices.run(userId);
      for (const d of list.devices) this.putDevice(userId, d);
      this.q.putList.run(userId, list.streamId);
    })();
  }

  async applyDeviceUpdate(userId: string, streamId: number, device: RemoteDevice, deleted: boolean): Promise<void> {
    this.db.transaction(() => {
      if (deleted) this.q.dropDevice.run(userId, device.deviceId);
      else this.putDevice(userId, device);
      this.q.putList.run(userId, streamId);
    })();
  }

  async dropDeviceList(userId: string): Promise<void> {
    this.db.transaction(() => {
      this.q.dropDevices.run(userId);
      this.q.dropList.run(userId);
    })();
  }

  async setCrossSigningKeys(userId: string, keys: RemoteCrossSigningKeys): Promise<void> {
    this.db.transaction(() => {
      if (keys.master) this.q.putKey.run(userId, 'master', JSON.stringify(keys.master));
      if (keys.selfSigning) this.q.putKey.run(userId, 'self_signing', JSON.stringify(keys.selfSigning));
    })();
  }

  async getCrossSigningKeys(userId: string): Promise<RemoteCrossSigningKeys> {
    const out: RemoteCrossSigningKeys = {};
    for (const r of this.q.keys.all(userId) as { key_type: string; key_json: string }[]) {
      const key = JSON.parse(r.key_json) as JsonObject;
      if (r.key_type === 'master') out.master = key;
      else if (r.key_type === 'self_signing') out.selfSigning = key;
    }
    return out;
  }

  private putDevice(userId: string, d: RemoteDevice): void {
    this.q.putDevice.run(userId, d.deviceId, d.displayName, d.keys === null ? null : JSON.stringify(d.keys));
  }
}
