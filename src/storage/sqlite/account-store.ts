import type Database from 'better-sqlite3';
import type { JsonValue } from '../../core/json.js';
import type { AccountStore, NewSession, NewUser, Profile, UserRecord } from '../storage.js';
import type { SqliteDeviceStore } from './device-store.js';

interface UserRow {
  user_id: string;
  password_hash: string | null;
  is_admin: number;
  is_guest: number;
  deactivated: number;
  created_ts: number;
}

export class SqliteAccountStore implements AccountStore {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly devices: SqliteDeviceStore,
  ) {
    this.q = {
      insertUser: db.prepare(
        'INSERT INTO users (user_id, password_hash, is_admin, created_ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      insertProfile: db.prepare('INSERT INTO profiles (user_id, profile) VALUES (?, ?)'),
      getUser: db.prepare('SELECT * FROM users WHERE user_id = ?'),
      setPassword: db.prepare('UPDATE users SET password_hash = ? WHERE user_id = ?'),
      deactivate: db.prepare('UPDATE users SET deactivated = 1 WHERE user_id = ?'),
      clearPassword: db.prepare('UPDATE users SET password_hash = NULL WHERE user_id = ?'),
      getProfile: db.prepare('SELECT profile FROM profiles WHERE user_id = ?').pluck(),
      setProfile: db.prepare('UPDATE profiles SET profile = ? WHERE user_id = ?'),
      deleteAccountData: db.prepare('DELETE FROM account_data WHERE user_id = ?'),
      deleteFilters: db.prepare('DELETE FROM filters WHERE user_id = ?'),
      countUsers: db.prepare('SELECT COUNT(*) FROM users').pluck(),
    };
  }

  async createUser(user: NewUser, session?: NewSession): Promise<boolean> {
    return this.db
      .transaction(() => {
        const r = this.q.insertUser.run(user.userId, user.passwordHash, user.isAdmin ? 1 : 0, user.createdTs);
        if (r.changes === 0) return false;
        this.q.insertProfile.run(user.userId, JSON.stringify(user.profile));
        if (session) this.devices.createSessionSync(session);
        return true;
      })
      .immediate();
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    const r = this.q.getUser.get(userId) as UserRow | undefined;
    return (
      r && {
        userId: r.user_id,
        passwordHash: r.password_hash,
        isAdmin: r.is_admin === 1,
        isGuest: r.is_guest === 1,
        deactivated: r.deactivated === 1,
        createdTs: r.created_ts,
      }
    );
  }

  async changePassword(userId: string, hash: string, logout: { keepDeviceId: string | null } | null): Promise<void> {
    this.db
      .transaction(() => {
        this.q.setPassword.run(hash, userId);
        if (logout) this.devices.deleteAllDevicesSync(userId, logout.keepDeviceId);
      })
      .immediate();
  }

  async deactivate(userId: string, erase: boolean): Promise<void> {
    this.db
      .transaction(() => {
        this.q.deactivate.run(userId);
        this.devices.deleteAllDevicesSync(userId, null);
        if (erase) {
          this.q.clearPassword.run(userId);
          this.q.setProfile.run('{}', userId);
          this.q.deleteAccountData.run(userId);
          this.q.deleteFilters.run(userId);
        }
      })
      .immediate();
  }

  async getProfile(userId: string): Promise<Profile | undefined> {
    const text = this.q.getProfile.get(userId) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as Profile);
  }

  async setProfileField(userId: string, key: string, value: JsonValue | undefined): Promise<Profile | undefined> {
    return this.db
      .transaction(() => {
        const text = this.q.getProfile.get(userId) as string | undefined;
        if (text === undefined) return undefined;
        const profile = JSON.parse(text) as Profile;
        if (value === undefined) delete profile[key];
        else profile[key] = value;
        this.q.setProfile.run(JSON.stringify(profile), userId);
        return profile;
      })
      .immediate();
  }

  async countUsers(): Promise<number> {
    return this.q.countUsers.get() as number;
  }
}
