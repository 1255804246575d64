/**
 * The storage interface. Every method is async so a networked database (PostgreSQL) can implement it
 * unchanged, even though the SQLite implementation completes synchronously. It is split into narrow
 * stores so each service depends only on what it uses; a write spanning several tables is always ONE
 * method, which the implementation runs as one transaction.
 */
import type { JsonObject, JsonValue } from '../core/json.js';
import type { DeviceListStore, PresenceStore, ReceiptStore, ToDeviceStore } from './ephemeral-store.js';
import type { EventStore, RoomDirectoryStore } from './event-store.js';
import type { MediaStore } from './media-store.js';
import type { FederationQueueStore, InboundTxnStore, ServerKeyStore } from './federation-store.js';
import type { RemoteDeviceStore } from './remote-device-store.js';

export interface UserRecord {
  userId: string;
  /** null: the account has no password (cannot log in with one). */
  passwordHash: string | null;
  isAdmin: boolean;
  isGuest: boolean;
  deactivated: boolean;
  createdTs: number;
}

export interface NewUser {
  userId: string;
  passwordHash: string | null;
  isAdmin: boolean;
  createdTs: number;
  /** Initial profile fields (typically `displayname` = the localpart). */
  profile: Record<string, JsonValue>;
}

/** A login: the device (created or reused) and the tokens bound to it. */
export interface NewSession {
  userId: string;
  deviceId: string;
  /** Used only when the device is created. */
  initialDisplayName: string | null;
  accessTokenHash: string;
  /** Set when the client supports refresh tokens; the access token then expires. */
  refreshTokenHash: string | null;
  accessExpiresTs: number | null;
  ip: string | null;
  now: number;
}

export type Profile = Record<string, JsonValue>;

export interface AccountStore {
  /** Creates the user (and, if given, its first session) atomically. False if the ID is taken. */
  createUser(user: NewUser, session?: NewSession): Promise<boolean>;
  getUser(userId: string): Promise<UserRecord | undefined>;
  /** Sets the hash; with `logout` also removes devices and tokens, sparing `keepDeviceId` if given. */
  changePassword(userId: string, passwordHash: string, logout: { keepDeviceId: string | null } | null): Promise<void>;
  /**
   * Marks the user deactivated and removes devices and tokens. The password hash stays so a login with
   * the right password can be told M_USER_DEACTIVATED; `erase` also clears it, the profile, account
   * data and filters.
   */
  deactivate(userId: string, erase: boolean): Promise<void>;
  getProfile(userId: string): Promise<Profile | undefined>;
  /** `value` undefined removes the field. Returns the new profile (undefined: no such user). */
  setProfileField(userId: string, key: string, value: JsonValue | undefined): Promise<Profile | undefined>;
  countUsers(): Promise<number>;
}

export interface DeviceRecord {
  userId: string;
  deviceId: string;
  displayName: string | null;
  lastSeenIp: string | null;
  lastSeenTs: number | null;
}

export interface AccessTokenInfo {
  tokenId: number;
  userId: string;
  deviceId: string;
  isGuest: boolean;
  /** null: never expires. */
  expiresTs: number | null;
  deviceLastSeenTs: number | null;
  /** A refresh token this token's first use revokes (the refresh flow keeps the old one until then). */
  supersedesRefreshTokenId: number | null;
}

export type RefreshResult =
  | { ok: true; userId: string; deviceId: string }
  /** `unknown`: never existed or was revoked. */
  | { ok: false; reason: 'unknown' };

export interface DeviceStore {
  /** Creates or reuses the device and issues tokens; reusing a device revokes its previous tokens. */
  createSession(session: NewSession): Promise<void>;
  getAccessToken(tokenHash: string): Promise<AccessTokenInfo | undefined>;
  /** Completes a refresh: the first use of the new tokens revokes the refresh token they replaced. */
  consumeSupersededRefreshToken(accessTokenId: number): Promise<void>;
  /** Exchanges a refresh token for new tokens, keeping the old refresh token valid until they are used. */
  refresh(
    oldRefreshHash: string,
    accessHash: string,
    refreshHash: string,
    accessExpiresTs: number,
    now: number,
  ): Promise<RefreshResult>;
  touchDevice(userId: string, deviceId: string, ip: string | null, ts: number): Promise<void>;
  listDevices(userId: string): Promise<DeviceRecord[]>;
  getDevice(userId: string, deviceId: string): Promise<DeviceRecord | undefined>;
  /** False when the device does not exist. */
  setDeviceDisplayName(userId: string, deviceId: string, displayName: string): Promise<boolean>;
  /** Removes the devices and every token bound to them. */
  deleteDevices(userId: string, deviceIds: readonly string[]): Promise<void>;
  /** Removes all devices of the user (except `keepDeviceId`) and their tokens. */
  deleteAllDevices(userId: string, keepDeviceId: string | null): Promise<void>;
}

export interface FilterStore {
  /** Returns the new filter's ID (never starting with `{`). */
  createFilter(userId: string, filter: JsonObject): Promise<string>;
  getFilter(userId: string, filterId: string): Promise<JsonObject | undefined>;
}

export interface AccountDataChange {
  roomId: string | null;
  type: string;
  content: JsonObject;
  streamId: number;
}

export interface AccountDataStore {
  /** Stores global (`roomId` null) or per-room account data; returns its position in the stream. */
  put(userId: string, roomId: string | null, type: string, content: JsonObject): Promise<number>;
  get(userId: string, roomId: string | null, type: string): Promise<JsonObject | undefined>;
  /** Read-modify-write of the room's `m.tag` content in one transaction; `tag` content undefined removes it. */
  setTag(userId: string, roomId: string, tag: string, content: JsonObject | undefined): Promise<number>;
  /** Latest value of every entry changed after `sinceStreamId` (0: everything), oldest first. */
  changesSince(userId: string, sinceStreamId: number): Promise<AccountDataChange[]>;
  currentStreamId(): Promise<number>;
}

export interface UiaSession {
  sessionId: string;
  /** What the session authorises: method + path, so a session cannot be replayed on another action. */
  action: string;
  /** The user the session is for, once known. */
  userId: string | null;
  completed: string[];
  createdTs: number;
}

export interface UiaSessionStore {
  create(session: UiaSession): Promise<void>;
  get(sessionId: string): Promise<UiaSession | undefined>;
  update(sessionId: string, completed: string[], userId: string | null): Promise<void>;
  delete(sessionId: string): Promise<void>;
  deleteOlderThan(ts: number): Promise<void>;
}

/** OpenID tokens, kept as hashes with an expiry. */
export interface OpenIdTokenStore {
  create(tokenHash: string, userId: string, expiresTs: number): Promise<void>;
  /** The owner of the token, if it is known and not expired at `now`. */
  userFor(tokenHash: string, now: number): Promise<string | undefined>;
  deleteExpired(now: number): Promise<void>;
}

export interface Storage {
  readonly accounts: AccountStore;
  readonly devices: DeviceStore;
  readonly filters: FilterStore;
  readonly accountData: AccountDataStore;
  readonly uia: UiaSessionStore;
  readonly events: EventStore;
  readonly roomDirectory: RoomDirectoryStore;
  readonly media: MediaStore;
  /** Other servers' signing keys (federation). */
  readonly serverKeys: ServerKeyStore;
  /** The persisted outbound federation queue. */
  readonly federationQueue: FederationQueueStore;
  /** Transactions received over federation (idempotency). */
  readonly inboundTxns: InboundTxnStore;
  readonly receipts: ReceiptStore;
  readonly toDevice: ToDeviceStore;
  readonly deviceLists: DeviceListStore;
  readonly presence: PresenceStore;
  /** Other servers' users' device lists and cross-signing keys (federation). */
  readonly remoteDevices: RemoteDeviceStore;
  /** OpenID tokens for third parties (Element Call, widgets). */
  readonly openIdTokens: OpenIdTokenStore;
  /** Flushes and closes; no method may be called afterwards. */
  close(): Promise<void>;
}
