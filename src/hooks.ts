/**
 * Extension points where later parts of the server attach behaviour to account changes without the
 * account code knowing about them (e.g. the rooms module sends new m.room.member events when a
 * profile changes; the rooms module makes a deactivated user leave their rooms).
 */
import type { JsonObject } from './core/json.js';
import type { Profile } from './storage/storage.js';

type Listener<A extends unknown[]> = (...args: A) => Promise<void> | void;

export class Hook<A extends unknown[]> {
  private readonly listeners: Listener<A>[] = [];

  on(listener: Listener<A>): void {
    this.listeners.push(listener);
  }

  /** Runs the listeners in registration order; a failing listener fails the caller. */
  async emit(...args: A): Promise<void> {
    for (const l of this.listeners) await l(...args);
  }
}

export class Hooks {
  /** After a local user's profile changed and was stored: propagate into member events here. */
  readonly profileChanged = new Hook<[userId: string, profile: Profile, changedKey: string]>();
  /** After a local user was deactivated (devices and tokens already removed): leave rooms here. */
  readonly userDeactivated = new Hook<[userId: string]>();
  /** After devices were deleted: drop their end-to-end keys and notify device lists here. */
  readonly devicesDeleted = new Hook<[userId: string, deviceIds: readonly string[]]>();
  /**
   * After a local user's cross-signing keys were stored (for the future keys/device_signing/upload):
   * federation sends them to the servers sharing a room with the user (`m.signing_key_update`).
   */
  readonly crossSigningKeysChanged = new Hook<[userId: string, keys: { master?: JsonObject; selfSigning?: JsonObject }]>();
}
