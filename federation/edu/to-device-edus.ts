/**
 * Send-to-device messages across servers (`m.direct_to_device`). A local send addressed to users
 * of another server becomes one EDU for that server (never coalesced: every message counts). An
 * inbound EDU is accepted only from the sender's own server, only its local recipients are kept,
 * and its `message_id` makes it land once per device however often it arrives (a retried
 * transaction, or the same EDU in a new one).
 */
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import type { ToDeviceMessages, ToDeviceService } from '../../src/ephemeral/to-device.js';
import { type EduPorts, ignoredEdu } from './edu-ports.js';

export function attachToDeviceEdus(ports: EduPorts, toDevice: ToDeviceService): void {
  toDevice.remoteOutgoing.on((m) => {
    const content: JsonObject = { sender: m.sender, type: m.type, message_id: m.messageId, messages: m.messages };
    ports
      .sendEdu([m.destination], 'm.direct_to_device', content)
      .catch((err) => ports.logger.error({ err, destination: m.destination }, 'could not queue a to-device EDU'));
  });

  ports.registerEduHandler('m.direct_to_device', async (origin, content) => {
    const { sender, type, message_id: messageId, messages } = content;
    if (typeof sender !== 'string' || typeof type !== 'string' || typeof messageId !== 'string' || !isJsonObject(messages)) {
      ignoredEdu(ports, origin, 'm.direct_to_device', 'malformed to-device EDU');
      return;
    }
    if (domainOf(sender) !== origin) {
      ignoredEdu(ports, origin, 'm.direct_to_device', `${sender} does not belong to ${origin}`, { sender });
      return;
    }
    const local: ToDeviceMessages = {};
    for (const [userId, byDevice] of Object.entries(messages)) {
      if (domainOf(userId) !== ports.serverName || !isJsonObject(byDevice)) continue;
      const devices: Record<string, JsonObject> = {};
      for (const [deviceId, body] of Object.entries(byDevice)) if (isJsonObject(body)) devices[deviceId] = body;
      local[userId] = devices;
    }
    const fresh = await toDevice.applyRemote(sender, type, messageId, local);
    if (!fresh) ports.logger.info({ origin, sender, messageId }, 'to-device message already received; ignored the repeat');
  });
}
