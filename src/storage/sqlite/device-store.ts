import type Database from 'better-sqlite3';
import type { AccessTokenInfo, DeviceRecord, DeviceStore, NewSession, RefreshResult } from '../storage.js';
import { withoutCommitSync } from './wal-sync.js';

interface DeviceRow {
  user_id: string;
  device_id: string;
  display_name: string | null;
  last_seen_ip: string | null;
  last_seen_ts: number | null;
}

const toDevice = (r: DeviceRow): DeviceRecord => ({
  userId: r.user_id,
  deviceId: r.device_id,
  displayName: r.display_name,
  lastSeenIp: r.last_seen_ip,
  lastSeenTs: r.last_seen_ts,
});

/** Tokens remembered at most; beyond that the oldest are forgotten. */
const TOKEN_CACHE_SIZE = 10_000;
/** How long last-seen updates wait to be written together. */
const TOUCH_FLUSH_MS = 1000;

/**
 * Devices and the access/refresh tokens bound to them (a token never outlives its device).
 *
 * Every authenticated request looks its token up, so known tokens are cached in memory. Every
 * write that deletes or changes an access token goes through this store (logout, logout/all,
 * device deletion, password change and deactivation via `deleteAllDevicesSync`, refresh, logging
 * in again as an existing device) and empties the cache: those are rare, and a whole-cache drop
 * cannot miss an entry. Unknown tokens are never cached. A rolled-back transaction only costs
 * cache misses.
 */
export class SqliteDeviceStore implements DeviceStore {
  private readonly q;
  private readonly tokens = new Map<string, AccessTokenInfo>();

  private readonly pendingTouches = new Map<string, { userId: string; deviceId: string; ip: string | null; ts: number }>();
  private touchTimer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Database.Database) {
    this.q = {
      insertDevice: db.prepare(
        `INSERT INTO devices (user_id, device_id, display_name, last_seen_ip, last_seen_ts, created_ts)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      touchDevice: db.prepare('UPDATE devices SET last_seen_ip = ?, last_seen_ts = ? WHERE user_id = ? AND device_id = ?'),
      deleteDeviceAccess: db.prepare('DELETE FROM access_tokens WHERE user_id = ? AND device_id = ?'),
      deleteDeviceRefresh: db.prepare('DELETE FROM refresh_tokens WHERE user_id = ? AND device_id = ?'),
      deleteDevice: db.prepare('DELETE FROM devices WHERE user_id = ? AND device_id = ?'),
      userDeviceIds: db.prepare('SELECT device_id FROM devices WHERE user_id = ?').pluck(),
      insertRefresh: db.prepare(
        'INSERT INTO refresh_tokens (token_hash, user_id, device_id, supersedes_id, created_ts) VALUES (?, ?, ?, ?, ?)',
      ),
      insertAccess: db.prepare(
        `INSERT INTO access_tokens (token_hash, user_id, device_id, expires_ts, refresh_token_id,
           supersedes_refresh_token_id, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      getAccess: db.prepare(
        `SELECT t.id, t.user_id, t.device_id, t.expires_ts, t.supersedes_refresh_token_id, d.last_seen_ts, u.is_guest
         FROM access_tokens t JOIN devices d ON d.user_id = t.user_id AND d.device_id = t.device_id
         JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?`,
      ),
      getAccessById: db.prepare('SELECT refresh_token_id, supersedes_refresh_token_id FROM access_tokens WHERE id = ?'),
      getRefresh: db.prepare('SELECT id, user_id, device_id, supersedes_id FROM refresh_tokens WHERE token_hash = ?'),
      successorsOf: db.prepare('SELECT id FROM refresh_tokens WHERE supersedes_id = ?').pluck(),
      deleteRefreshById: db.prepare('DELETE FROM refresh_tokens WHERE id = ?'),
      deleteAccessByRefresh: db.prepare('DELETE FROM access_tokens WHERE refresh_token_id = ?'),
      clearSupersedes: db.prepare('UPDATE refresh_tokens SET supersedes_id = NULL WHERE id = ?'),
      clearAccessSupersedes: db.prepare(
        'UPDATE access_tokens SET supersedes_refresh_token_id = NULL WHERE supersedes_refresh_token_id = ?',
      ),
      listDevices: db.prepare('SELECT * FROM devices WHERE user_id = ? ORDER BY created_ts, device_id'),
      getDevice: db.prepare('SELECT * FROM devices WHERE user_id = ? AND device_id = ?'),
      setDisplayName: db.prepare('UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?'),
    };
  }

  /** For use inside another store's transaction. */
  createSessionSync(s: NewSession): void {
    const created = this.q.insertDevice.run(s.userId, s.deviceId, s.initialDisplayName, s.ip, s.now, s.now);
    if (created.changes === 0) {
      this.forgetTokens();
      // Logging in "as" an existing device replaces its tokens (spec: relationship between tokens and devices).
      this.q.deleteDeviceAccess.run(s.userId, s.deviceId);
      this.q.deleteDeviceRefresh.run(s.userId, s.deviceId);
      this.q.touchDevice.run(s.ip, s.now, s.userId, s.deviceId);
    }
    let refreshId: number | null = null;
    if (s.refreshTokenHash !== null) {
      refreshId = Number(this.q.insertRefresh.run(s.refreshTokenHash, s.userId, s.deviceId, null, s.now).lastInsertRowid);
    }
    this.q.insertAccess.run(s.accessTokenHash, s.userId, s.deviceId, s.accessExpiresTs, refreshId, null, s.now);
  }

  async createSession(s: NewSession): Promise<void> {
    this.db.transaction(() => this.createSessionSync(s)).immediate();
  }

  async getAccessToken(tokenHash: string): Promise<AccessTokenInfo | undefined> {
    const cached = this.tokens.get(tokenHash);
    if (cached) return { ...cached };
    const r = this.q.getAccess.get(tokenHash) as
      | {
          id: number;
          user_id: string;
          device_id: string;
          expires_ts: number | null;
          supersedes_refresh_token_id: number | null;
          last_seen_ts: number | null;
          is_guest: number;
        }
      | undefined;
    if (!r) return undefined;
    const info: AccessTokenInfo = {
      tokenId: r.id,
      userId: r.user_id,
      deviceId: r.device_id,
      isGuest: r.is_guest === 1,
      expiresTs: r.expires_ts,
      deviceLastSeenTs: r.last_seen_ts,
      supersedesRefreshTokenId: r.supersedes_refresh_token_id,
    };
    if (this.tokens.size >= TOKEN_CACHE_SIZE) this.tokens.delete(this.tokens.keys().next().value as string);
    this.tokens.set(tokenHash, info);
    return { ...info };
  }

  /** Drops every cached token (call on any write that deletes or changes access tokens). */
  private forgetTokens(): void {
    this.tokens.clear();
  }

  /** Revokes a refresh token and the access tokens issued with it. */
  private revokeRefreshSync(refreshId: number): void {
    this.forgetTokens();
    this.q.deleteAccessByRefresh.run(refreshId);
    this.q.deleteRefreshById.run(refreshId);
    this.q.clearAccessSupersedes.run(refreshId);
  }

  async consumeSupersededRefreshToken(accessTokenId: number): Promise<void> {
    this.db
      .transaction(() => {
        const a = this.q.getAccessById.get(accessTokenId) as
          | { refresh_token_id: number | null; supersedes_refresh_token_id: number | null }
          | undefined;
        if (!a || a.supersedes_refresh_token_id === null) return;
        this.forgetTokens();
        this.revokeRefreshSync(a.supersedes_refresh_token_id);
        if (a.refresh_token_id !== null) this.q.clearSupersedes.run(a.refresh_token_id);
      })
      .immediate();
  }

  async refresh(
    oldHash: string,
    accessHash: string,
    refreshHash: string,
    expiresTs: number,
    now: number,
  ): Promise<RefreshResult> {
    return this.db
      .transaction((): RefreshResult => {
        const old = this.q.getRefresh.get(oldHash) as
          | { id: number; user_id: string; device_id: string; supersedes_id: number | null }
          | undefined;
        if (!old) return { ok: false, reason: 'unknown' };
        // Using this token proves the client holds it, so the one it replaced can go now.
        if (old.supersedes_id !== null) {
          this.revokeRefreshSync(old.supersedes_id);
          this.q.clearSupersedes.run(old.id);
        }
        // A repeated refresh (the client lost our answer) replaces the never-used earlier answer.
        for (const id of this.q.successorsOf.all(old.id) as number[]) this.revokeRefreshSync(id);
        const newId = Number(
          this.q.insertRefresh.run(refreshHash, old.user_id, old.device_id, old.id, now).lastInsertRowid,
        );
        this.q.insertAccess.run(accessHash, old.user_id, old.device_id, expiresTs, newId, old.id, now);
        return { ok: true, userId: old.user_id, deviceId: old.device_id };
      })
      .immediate();
  }

  /**
   * Last-seen times are kept here and written together, once a second, without an fsync of their
   * own: a busy server touches hundreds of devices a minute (every client's first request after a
   * minute), and a synchronous commit each stalled the event loop for as long as the disk took.
   * A last-seen time lost to a power cut costs nothing; this store's own reads see pending ones.
   */
  async touchDevice(userId: string, deviceId: string, ip: string | null, ts: number): Promise<void> {
    this.pendingTouches.set(`${userId}\u0000${deviceId}`, { userId, deviceId, ip, ts });
    this.touchTimer ??= setTimeout(() => this.flushTouches(), TOUCH_FLUSH_MS);
    this.touchTimer.unref();
    for (const info of this.tokens.values()) {
      if (info.userId === userId && info.deviceId === deviceId) info.deviceLastSeenTs = ts;
    }
  }

  /** Writes the pending last-seen times (also before this store reads devices, and at close). */
  flushTouches(): void {
    if (this.touchTimer) clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    if (this.pendingTouches.size === 0) return;
    const touches = [...this.pendingTouches.values()];
    this.pendingTouches.clear();
    withoutCommitSync(this.db, () =>
      this.db.transaction(() => {
        for (const t of touches) this.q.touchDevice.run(t.ip, t.ts, t.userId, t.deviceId);
      })(),
    );
  }

  async listDevices(userId: string): Promise<DeviceRecord[]> {
    this.flushTouches();
    return (this.q.listDevices.all(userId) as DeviceRow[]).map(toDevice);
  }

  async getDevice(userId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    this.flushTouches();
    const r = this.q.getDevice.get(userId, deviceId) as DeviceRow | undefined;
    return r && toDevice(r);
  }

  async setDeviceDisplayName(userId: string, deviceId: string, displayName: string): Promise<boolean> {
    return this.q.setDisplayName.run(displayName, userId, deviceId).changes > 0;
  }

  deleteDevicesSync(userId: string, deviceIds: readonly string[]): void {
    this.forgetTokens();
    for (const id of deviceIds) {
      this.q.deleteDeviceAccess.run(userId, id);
      this.q.deleteDeviceRefresh.run(userId, id);
      this.q.deleteDevice.run(userId, id);
    }
  }

  deleteAllDevicesSync(userId: string, keepDeviceId: string | null): void {
    const ids = (this.q.userDeviceIds.all(userId) as string[]).filter((id) => id !== keepDeviceId);
    this.deleteDevicesSync(userId, ids);
  }

  async deleteDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    this.db.transaction(() => this.deleteDevicesSync(userId, deviceIds)).immediate();
  }

  async deleteAllDevices(userId: string, keepDeviceId: string | null): Promise<void> {
    this.db.transaction(() => this.deleteAllDevicesSync(userId, keepDeviceId)).immediate();
  }
}
