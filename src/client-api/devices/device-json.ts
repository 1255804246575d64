import type { JsonObject } from '../../core/json.js';
import type { DeviceRecord } from '../../storage/storage.js';

/** A device as the client API shows it (absent fields omitted, not null). */
export function deviceJson(d: DeviceRecord): JsonObject {
  const out: JsonObject = { device_id: d.deviceId };
  if (d.displayName !== null) out.display_name = d.displayName;
  if (d.lastSeenIp !== null) out.last_seen_ip = d.lastSeenIp;
  if (d.lastSeenTs !== null) out.last_seen_ts = d.lastSeenTs;
  return out;
}
