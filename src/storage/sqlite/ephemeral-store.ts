/** SQLite implementation of the receipt, to-device, device-list and presence stores. */
import type Database from 'better-sqlite3';
import type { JsonObject } from '../../core/json.js';
import type {
  DeviceListStore,
  NewReceipt,
  PresenceStatus,
  PresenceStore,
  QueuedToDevice,
  ReceiptRecord,
  ReceiptStore,
  ToDeviceMessage,
  ToDeviceStore,
} from '../ephemeral-store.js';

/** Column value for an unthreaded receipt (part of the primary key, so not NULL). */
const UNTHREADED = '';

function counter(db: Database.Database, name: string) {
  return {
    bump: db.prepare(`UPDATE stream_counters SET value = value + 1 WHERE name = '${name}' RETURNING value`).pluck(),
    current: db.prepare(`SELECT value FROM stream_counters WHERE name = '${name}'`).pluck(),
  };
}

interface ReceiptRow {
  room_id: string;
  receipt_type: string;
  user_id: string;
  thread_id: string;
  event_id: string;
  event_stream: number;
  ts: number;
  stream_id: number;
}

const toReceipt = (r: ReceiptRow): ReceiptRecord => ({
  roomId: r.room_id,
  receiptType: r.receipt_type,
  userId: r.user_id,
  threadId: r.thread_id === UNTHREADED ? null : r.thread_id,
  eventId: r.event_id,
  eventStream: r.event_stream,
  ts: r.ts,
  streamId: r.stream_id,
});

export class SqliteReceiptStore implements ReceiptStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      ...counter(db, 'receipts'),
      existing: db.prepare(
        'SELECT event_id, event_stream FROM receipts WHERE room_id = ? AND receipt_type = ? AND user_id = ? AND thread_id = ?',
      ),
      upsert: db.prepare(
        `INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id, event_stream, ts, stream_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE SET
           event_id = excluded.event_id, event_stream = excluded.event_stream, ts = excluded.ts, stream_id = excluded.stream_id`,
      ),
      inRooms: db.prepare(
        `SELECT * FROM receipts WHERE room_id IN (SELECT value FROM json_each(?)) AND stream_id > ? AND stream_id <= ?
         ORDER BY stream_id`,
      ),
      forUser: db.prepare('SELECT * FROM receipts WHERE room_id = ? AND user_id = ?'),
    };
  }

  async put(r: NewReceipt): Promise<number | undefined> {
    return this.db
      .transaction(() => {
        const thread = r.threadId ?? UNTHREADED;
        const prev = this.q.existing.get(r.roomId, r.receiptType, r.userId, thread) as
          | { event_id: string; event_stream: number }
          | undefined;
        if (prev && (prev.event_id === r.eventId || (r.eventStream > 0 && prev.event_stream > r.eventStream))) return undefined;
        const streamId = this.q.bump.get() as number;
        this.q.upsert.run(r.roomId, r.receiptType, r.userId, thread, r.eventId, r.eventStream, r.ts, streamId);
        return streamId;
      })
      .immediate();
  }

  async changesInRooms(roomIds: readonly string[], fromExclusive: number, toInclusive: number): Promise<ReceiptRecord[]> {
    if (roomIds.length === 0 || toInclusive <= fromExclusive) return [];
    return (this.q.inRooms.all(JSON.stringify(roomIds), fromExclusive, toInclusive) as ReceiptRow[]).map(toReceipt);
  }

  async getForUser(roomId: string, userId: string): Promise<ReceiptRecord[]> {
    return (this.q.forUser.all(roomId, userId) as ReceiptRow[]).map(toReceipt);
  }

  async currentStreamId(): Promise<number> {
    return this.q.current.get() as number;
  }
}

export class SqliteToDeviceStore implements ToDeviceStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      ...counter(db, 'to_device'),
      txn: db.prepare('INSERT INTO to_device_txns (user_id, device_id, txn_id, created_ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      insert: db.prepare('INSERT INTO to_device (stream_id, user_id, device_id, sender, type, content) VALUES (?, ?, ?, ?, ?, ?)'),
      pending: db.prepare(
        `SELECT stream_id, sender, type, content FROM to_device
         WHERE user_id = ? AND device_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id LIMIT ?`,
      ),
      ack: db.prepare('DELETE FROM to_device WHERE user_id = ? AND device_id = ? AND stream_id <= ?'),
      drop: db.prepare('DELETE FROM to_device WHERE user_id = ? AND device_id = ?'),
    };
  }

  async enqueue(
    sender: string,
    txn: { deviceId: string; txnId: string } | null,
    messages: readonly ToDeviceMessage[],
    now: number,
  ): Promise<{ duplicate: boolean; streamId: number }> {
    return this.db
      .transaction(() => {
        if (txn && this.q.txn.run(sender, txn.deviceId, txn.txnId, now).changes === 0) {
          return { duplicate: true, streamId: this.q.current.get() as number };
        }
        let streamId = this.q.current.get() as number;
        for (const m of messages) {
          streamId = this.q.bump.get() as number;
          this.q.insert.run(streamId, m.userId, m.deviceId, sender, m.type, JSON.stringify(m.content));
        }
        return { duplicate: false, streamId };
      })
      .immediate();
  }

  async pending(userId: string, deviceId: string, fromExclusive: number, toInclusive: number, limit: number): Promise<QueuedToDevice[]> {
    const rows = this.q.pending.all(userId, deviceId, fromExclusive, toInclusive, limit) as {
      stream_id: number;
      sender: string;
      type: string;
      content: string;
    }[];
    return rows.map((r) => ({ streamId: r.stream_id, sender: r.sender, type: r.type, content: JSON.parse(r.content) as JsonObject }));
  }

  async acknowledge(userId: string, deviceId: string, upTo: number): Promise<void> {
    this.q.ack.run(userId, deviceId, upTo);
  }

  async dropDevices(userId: string, deviceIds: readonly string[]): Promise<void> {
    this.db.transaction(() => {
      for (const d of deviceIds) this.q.drop.run(userId, d);
    })();
  }

  async currentStreamId(): Promise<number> {
    return this.q.current.get() as number;
  }
}

export class SqliteDeviceListStore implements DeviceListStore {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      ...counter(db, 'device_lists'),
      insert: db.prepare('INSERT OR IGNORE INTO device_list_changes (stream_id, user_id) VALUES (?, ?)'),
      between: db
        .prepare('SELECT DISTINCT user_id FROM device_list_changes WHERE stream_id > ? AND stream_id <= ?')
        .pluck(),
      lastFor: db.prepare('SELECT COALESCE(MAX(stream_id), 0) FROM device_list_changes WHERE user_id = ? AND stream_id < ?').pluck(),
    };
  }

  async markChanged(userIds: readonly string[]): Promise<number> {
    return this.db
      .transaction(() => {
        const streamId = this.q.bump.get() as number;
        for (const u of userIds) this.q.insert.run(streamId, u);
        return streamId;
      })
      .immediate();
  }

  async changedBetween(fromExclusive: number, toInclusive: number): Promise<string[]> {
    if (toInclusive <= fromExclusive) return [];
    return this.q.between.all(fromExclusive, toInclusive) as string[];
  }

  async lastChangeFor(userId: string, beforeExclusive = Number.MAX_SAFE_INTEGER): Promise<number> {
    return this.q.lastFor.get(userId, beforeExclusive) as number;
  }

  async currentStreamId(): Promise<number> {
    return this.q.current.get() as number;
  }
}

export class SqlitePresenceStore implements PresenceStore {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      get: db.prepare('SELECT state, status_msg FROM presence_status WHERE user_id = ?'),
      put: db.prepare(
        `INSERT INTO presence_status (user_id, state, status_msg) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, status_msg = excluded.status_msg`,
      ),
    };
  }

  async getStatus(userId: string): Promise<PresenceStatus | undefined> {
    const row = this.q.get.get(userId) as { state: PresenceStatus['state']; status_msg: string | null } | undefined;
    return row && { state: row.state, statusMsg: row.status_msg };
  }

  async setStatus(userId: string, status: PresenceStatus): Promise<void> {
    this.q.put.run(userId, status.state, status.statusMsg);
  }
}
