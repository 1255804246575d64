/**
 * Send-to-device messages. Queued per recipient device (stored), delivered in the device's sync
 * from the position after its `since`, and deleted once the device syncs with a token past them:
 * a client that retries a sync with the old token gets the same messages again, one that moves on
 * never sees them twice. The sender's (device, txnId) makes PUT /sendToDevice idempotent.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '../core/json.js';
import { domainOf } from '../core/pdu.js';
import type { Notifier } from '../notifier.js';
import type { ToDeviceMessage } from '../storage/ephemeral-store.js';
import type { Storage } from '../storage/storage.js';
import { Listeners } from './listeners.js';

/** The device ID under which a remote sender's message IDs are recorded for deduplication. */
const REMOTE_SENDER_DEVICE = '';

/** Most messages delivered in one sync; the rest follow in the next (the token says where to resume). */
export const TO_DEVICE_BATCH = 100;

/** recipient user → device ID (or `*`) → content. */
export type ToDeviceMessages = Record<string, Record<string, JsonObject>>;

/** Messages for users of another server (the federation sender turns them into `m.direct_to_device` EDUs). */
export interface OutgoingToDevice {
  destination: string;
  sender: string;
  type: string;
  /** Unique per send (and the same for a retried send), for the receiving server's deduplication; at most 32 characters. */
  messageId: string;
  messages: ToDeviceMessages;
}

export class ToDeviceService {
  readonly remoteOutgoing: Listeners<[OutgoingToDevice]>;

  constructor(
    private readonly storage: Storage,
    private readonly notifier: Notifier,
    private readonly now: () => number,
    private readonly serverName: string,
    onListenerError?: (err: unknown) => void,
  ) {
    this.remoteOutgoing = new Listeners(onListenerError);
  }

  /** PUT /sendToDevice from a local device. A repeated txnId is accepted and does nothing. */
  async send(sender: { userId: string; deviceId: string }, type: string, txnId: string, messages: ToDeviceMessages): Promise<void> {
    const local: ToDeviceMessage[] = [];
    const remote = new Map<string, ToDeviceMessages>();
    for (const [userId, byDevice] of Object.entries(messages)) {
      const server = domainOf(userId);
      if (server !== this.serverName) {
        const forServer = remote.get(server) ?? {};
        forServer[userId] = byDevice;
        remote.set(server, forServer);
        continue;
      }
      local.push(...(await this.expand(userId, type, byDevice)));
    }
    const { duplicate } = await this.storage.toDevice.enqueue(sender.userId, { deviceId: sender.deviceId, txnId }, local, this.now());
    if (duplicate) return;
    this.wake(local);
    const messageId = createHash('sha256').update(`${sender.userId}\u0000${sender.deviceId}\u0000${txnId}`).digest('base64url').slice(0, 32);
    for (const [destination, msgs] of remote) {
      this.remoteOutgoing.emit({ destination, sender: sender.userId, type, messageId, messages: msgs });
    }
  }

  /**
   * Messages from another server for local users (the caller checked that the sender belongs to
   * it). The sender's `messageId` is recorded like a local device's transaction ID, so a message
   * that arrives again (a retried transaction, a re-sent EDU) is queued once. Returns false for
   * such a duplicate.
   */
  async applyRemote(sender: string, type: string, messageId: string, messages: ToDeviceMessages): Promise<boolean> {
    const local: ToDeviceMessage[] = [];
    for (const [userId, byDevice] of Object.entries(messages)) {
      if (domainOf(userId) === this.serverName) local.push(...(await this.expand(userId, type, byDevice)));
    }
    // A remote sender has no local devices, so this pseudo-device cannot collide with a real one.
    const { duplicate } = await this.storage.toDevice.enqueue(sender, { deviceId: REMOTE_SENDER_DEVICE, txnId: messageId }, local, this.now());
    if (!duplicate) this.wake(local);
    return !duplicate;
  }

  currentPosition(): Promise<number> {
    return this.storage.toDevice.currentStreamId();
  }

  /**
   * The device's messages after `fromExclusive` up to `toInclusive`, at most TO_DEVICE_BATCH, and
   * the position they reach (`toInclusive` unless the batch was cut short). Messages at or before
   * `ackUpTo` (by default `fromExclusive`: the client's token) are acknowledged (deleted) first.
   */
  async changesFor(
    userId: string,
    deviceId: string,
    fromExclusive: number,
    toInclusive: number,
    ackUpTo = fromExclusive,
  ): Promise<{ events: JsonObject[]; upTo: number }> {
    await this.acknowledge(userId, deviceId, Math.min(ackUpTo, fromExclusive));
    const rows = await this.storage.toDevice.pending(userId, deviceId, fromExclusive, toInclusive, TO_DEVICE_BATCH);
    const events = rows.map((r) => ({ type: r.type, sender: r.sender, content: r.content }));
    const upTo = rows.length === TO_DEVICE_BATCH ? rows[rows.length - 1].streamId : toInclusive;
    return { events, upTo };
  }

  /** The device has processed its messages up to `upTo`: delete them. */
  async acknowledge(userId: string, deviceId: string, upTo: number): Promise<void> {
    if (upTo > 0) await this.storage.toDevice.acknowledge(userId, deviceId, upTo);
  }

  /** Deleted devices get no more messages. */
  async devicesDeleted(userId: string, deviceIds: readonly string[]): Promise<void> {
    await this.storage.toDevice.dropDevices(userId, deviceIds);
  }

  private async expand(userId: string, type: string, byDevice: Record<string, JsonObject>): Promise<ToDeviceMessage[]> {
    const out: ToDeviceMessage[] = [];
    let all: string[] | undefined;
    for (const [deviceId, content] of Object.entries(byDevice)) {
      if (deviceId === '*') {
        all ??= (await this.storage.devices.listDevices(userId)).map((d) => d.deviceId);
        for (const d of all) out.push({ userId, deviceId: d, type, content });
      } else if (await this.storage.devices.getDevice(userId, deviceId)) {
        out.push({ userId, deviceId, type, content });
      }
    }
    return out;
  }

  private wake(messages: readonly ToDeviceMessage[]): void {
    if (messages.length > 0) this.notifier.notify('to_device', new Set(messages.map((m) => m.userId)));
  }
}
