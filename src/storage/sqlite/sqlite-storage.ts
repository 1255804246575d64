/** The SQLite backend: one connection shared by narrow stores (better-sqlite3 is synchronous). */
import type Database from 'better-sqlite3';
import type { Storage } from '../storage.js';
import { SqliteAccountDataStore } from './account-data-store.js';
import { SqliteAccountStore } from './account-store.js';
import { openDatabase } from './database.js';
import { SqliteDeviceStore } from './device-store.js';
import { SqliteDeviceListStore, SqlitePresenceStore, SqliteReceiptStore, SqliteToDeviceStore } from './ephemeral-store.js';
import { SqliteEventStore } from './event-store.js';
import { SqliteFilterStore } from './filter-store.js';
import { SqliteMediaStore } from './media-store.js';
import { SqliteRoomDirectoryStore } from './room-directory-store.js';
import { SqliteServerKeyStore } from './server-key-store.js';
import { SqliteFederationQueueStore } from './federation-queue-store.js';
import { SqliteRemoteDeviceStore } from './remote-device-store.js';
import { SqliteOpenIdTokenStore } from './openid-store.js';
import { SqliteUiaStore } from './uia-store.js';

export class SqliteStorage implements Storage {
  readonly accounts: SqliteAccountStore;
  readonly devices: SqliteDeviceStore;
  readonly filters: SqliteFilterStore;
  readonly accountData: SqliteAccountDataStore;
  readonly uia: SqliteUiaStore;
  readonly events: SqliteEventStore;
  readonly roomDirectory: SqliteRoomDirectoryStore;
  readonly media: SqliteMediaStore;
  readonly serverKeys: SqliteServerKeyStore;
  readonly federationQueue: SqliteFederationQueueStore;
  readonly inboundTxns: SqliteFederationQueueStore;
  readonly receipts: SqliteReceiptStore;
  readonly toDevice: SqliteToDeviceStore;
  readonly deviceLists: SqliteDeviceListStore;
  readonly presence: SqlitePresenceStore;
  readonly remoteDevices: SqliteRemoteDeviceStore;
  readonly openIdTokens: SqliteOpenIdTokenStore;
  private closed = false;

  constructor(readonly db: Database.Database) {
    this.devices = new SqliteDeviceStore(db);
    this.accounts = new SqliteAccountStore(db, this.devices);
    this.filters = new SqliteFilterStore(db);
    this.accountData = new SqliteAccountDataStore(db);
    this.uia = new SqliteUiaStore(db);
    this.events = new SqliteEventStore(db);
    this.roomDirectory = new SqliteRoomDirectoryStore(db);
    this.media = new SqliteMediaStore(db);
    this.serverKeys = new SqliteServerKeyStore(db);
    this.federationQueue = new SqliteFederationQueueStore(db);
    this.inboundTxns = this.federationQueue;
    this.receipts = new SqliteReceiptStore(db);
    this.toDevice = new SqliteToDeviceStore(db);
    this.deviceLists = new SqliteDeviceListStore(db);
    this.presence = new SqlitePresenceStore(db);
    this.remoteDevices = new SqliteRemoteDeviceStore(db);
    this.openIdTokens = new SqliteOpenIdTokenStore(db);
  }

  /** Opens (creating if needed) and migrates the database at `path` (':memory:' for tests). */
  static open(path: string): SqliteStorage {
    return new SqliteStorage(openDatabase(path));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.flushPendingWrites();
    this.devices.flushTouches();
    // Fold the WAL back into the main file so a clean shutdown leaves a single self-contained file.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
    await this.events.closeWal();
  }
}
