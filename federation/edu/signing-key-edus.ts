/**
 * Cross-signing keys across servers (`m.signing_key_update`). Inbound: the master and
 * self-signing keys of a user of the origin, joined to some room here, are stored (each only if
 * it is that user's key for that usage), and local users sharing a room see the user in
 * `device_lists.changed`, which is how clients learn to re-fetch keys. Outbound: there is no
 * upload endpoint for cross-signing keys yet; whatever stores a local user's new keys emits
 * `hooks.crossSigningKeysChanged`, and the servers sharing a room with the user get the EDU.
 */
import type { JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import type { DeviceListService } from '../../src/ephemeral/device-lists.js';
import type { Hooks } from '../../src/hooks.js';
import type { RemoteDeviceStore } from '../../src/storage/remote-device-store.js';
import { validCrossSigningKey } from './device-list-edus.js';
import { type EduPorts, ignoredEdu } from './edu-ports.js';

const EDU = 'm.signing_key_update';

export interface SigningKeyEduDeps {
  hooks: Pick<Hooks, 'crossSigningKeysChanged'>;
  remoteDevices: Pick<RemoteDeviceStore, 'setCrossSigningKeys'>;
  deviceLists: Pick<DeviceListService, 'applyRemote'>;
}

export function attachSigningKeyEdus(ports: EduPorts, d: SigningKeyEduDeps): void {
  d.hooks.crossSigningKeysChanged.on(async (userId, keys) => {
    const content: JsonObject = { user_id: userId };
    if (keys.master) content.master_key = keys.master;
    if (keys.selfSigning) content.self_signing_key = keys.selfSigning;
    await ports.sendEdu(await ports.serversSharingRoomWith(userId), EDU, content);
  });

  ports.registerEduHandler(EDU, async (origin, content) => {
    const userId = content.user_id;
    if (typeof userId !== 'string') {
      ignoredEdu(ports, origin, EDU, 'malformed signing-key update');
      return;
    }
    if (domainOf(userId) !== origin) {
      ignoredEdu(ports, origin, EDU, `${userId} does not belong to ${origin}`, { userId });
      return;
    }
    if (!(await ports.isJoinedAnywhere(userId))) {
      ignoredEdu(ports, origin, EDU, `${userId} shares no room with this server`, { userId });
      return;
    }
    const master = validCrossSigningKey(content.master_key, userId, 'master');
    const selfSigning = validCrossSigningKey(content.self_signing_key, userId, 'self_signing');
    if (!master && !selfSigning) {
      ignoredEdu(ports, origin, EDU, 'no valid cross-signing key', { userId });
      return;
    }
    await d.remoteDevices.setCrossSigningKeys(userId, { master, selfSigning });
    await d.deviceLists.applyRemote(userId);
  });
}
