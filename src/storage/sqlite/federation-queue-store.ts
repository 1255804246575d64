import type Database from 'better-sqlite3';
import type { JsonObject } from '../../core/json.js';
import type { DestinationState, FederationQueueStore, InboundTxnRecord, InboundTxnStore, OutboxItem } from '../federation-store.js';
import { type Prepare, statementCache } from './statement-cache.js';

interface OutboxRow {
  id: number;
  event_id: string | null;
  edu: string | null;
}

const toItem = (r: OutboxRow): OutboxItem => ({ id: r.id, eventId: r.event_id, edu: r.edu === null ? null : (JSON.parse(r.edu) as JsonObject) });

/** Writes a received transaction's answer (also from the event store, inside its write transaction). */
export function putInboundTxn(prep: Prepare, r: InboundTxnRecord): void {
  prep('INSERT OR REPLACE INTO federation_inbound_txns (origin, txn_id, result, received_ts) VALUES (?, ?, ?, ?)').run(
    r.origin,
    r.txnId,
    JSON.stringify(r.result),
    r.ts,
  );
}

export class SqliteFederationQueueStore implements FederationQueueStore, InboundTxnStore {
  private readonly q;
  private readonly prep: Prepare;

  constructor(private readonly db: Database.Database) {
    this.prep = statementCache(db);
    this.q = {
      insertPdu: db.prepare('INSERT INTO federation_outbox (destination, event_id, room_id) VALUES (?, ?, ?)'),
      deleteCoalesced: db.prepare(
        'DELETE FROM federation_outbox WHERE destination = ? AND coalesce_key = ? AND txn_id IS NULL',
      ),
      insertEdu: db.prepare('INSERT INTO federation_outbox (destination, edu, coalesce_key) VALUES (?, ?, ?)'),
      claimed: db.prepare('SELECT id, event_id, edu, txn_id FROM federation_outbox WHERE destination = ? AND txn_id IS NOT NULL ORDER BY id'),
      pendingPdus: db.prepare(
        'SELECT id, event_id, edu FROM federation_outbox WHERE destination = ? AND txn_id IS NULL AND event_id IS NOT NULL ORDER BY id LIMIT ?',
      ),
      pendingEdus: db.prepare(
        'SELECT id, event_id, edu FROM federation_outbox WHERE destination = ? AND txn_id IS NULL AND edu IS NOT NULL ORDER BY id LIMIT ?',
      ),
      setTxn: db.prepare('UPDATE federation_outbox SET txn_id = ? WHERE id = ?'),
      ack: db.prepare('DELETE FROM federation_outbox WHERE destination = ? AND txn_id = ?'),
      trim: db.prepare(`
        DELETE FROM federation_outbox WHERE id IN (
          SELECT id FROM (
            SELECT id, ROW_NUMBER() OVER (PARTITION BY room_id ORDER BY id DESC) AS n
            FROM federation_outbox WHERE destination = ? AND txn_id IS NULL AND event_id IS NOT NULL
          ) WHERE n > ?)`),
      count: db.prepare(
        'SELECT COUNT(event_id) AS pdus, COUNT(edu) AS edus FROM federation_outbox WHERE destination = ?',
      ),
      destinations: db.prepare('SELECT DISTINCT destination FROM federation_outbox').pluck(),
      getDest: db.prepare('SELECT destination, failures, retry_after_ts FROM federation_destinations WHERE destination = ?'),
      setDest: db.prepare(`
        INSERT INTO federation_destinations (destination, failures, retry_after_ts) VALUES (?, ?, ?)
        ON CONFLICT (destination) DO UPDATE SET failures = excluded.failures, retry_after_ts = excluded.retry_after_ts`),
      getTxn: db.prepare('SELECT result FROM federation_inbound_txns WHERE origin = ? AND txn_id = ?').pluck(),
      deleteTxns: db.prepare('DELETE FROM federation_inbound_txns WHERE received_ts < ?'),
    };
  }

  async enqueuePdu(destinations: readonly string[], eventId: string, roomId: string): Promise<void> {
    this.db
      .transaction(() => {
        for (const d of destinations) this.q.insertPdu.run(d, eventId, roomId);
      })
      .immediate();
  }

  async enqueueEdu(destinations: readonly string[], edu: JsonObject, coalesceKey: string | undefined): Promise<void> {
    const text = JSON.stringify(edu);
    this.db
      .transaction(() => {
        for (const d of destinations) {
          if (coalesceKey !== undefined) this.q.deleteCoalesced.run(d, coalesceKey);
          this.q.insertEdu.run(d, text, coalesceKey ?? null);
        }
      })
      .immediate();
  }

  async claim(destination: string, newTxnId: string, maxPdus: number, maxEdus: number): Promise<{ txnId: string; items: OutboxItem[] }> {
    return this.db
      .transaction(() => {
        const claimed = this.q.claimed.all(destination) as Array<OutboxRow & { txn_id: string }>;
        if (claimed.length > 0) {
          const txnId = claimed[0].txn_id;
          return { txnId, items: claimed.filter((r) => r.txn_id === txnId).map(toItem) };
        }
        const rows = [
          ...(this.q.pendingPdus.all(destination, maxPdus) as OutboxRow[]),
          ...(this.q.pendingEdus.all(destination, maxEdus) as OutboxRow[]),
        ].sort((a, b) => a.id - b.id);
        for (const r of rows) this.q.setTxn.run(newTxnId, r.id);
        return { txnId: newTxnId, items: rows.map(toItem) };
      })
      .immediate();
  }

  async ack(destination: string, txnId: string): Promise<void> {
    this.q.ack.run(destination, txnId);
  }

  async trimPdus(destination: string, keepPerRoom: number): Promise<number> {
    return this.q.trim.run(destination, keepPerRoom).changes;
  }

  async countPending(destination: string): Promise<{ pdus: number; edus: number }> {
    return this.q.count.get(destination) as { pdus: number; edus: number };
  }

  async destinationsWithPending(): Promise<string[]> {
    return this.q.destinations.all() as string[];
  }

  async getDestination(destination: string): Promise<DestinationState | undefined> {
    const r = this.q.getDest.get(destination) as { destination: string; failures: number; retry_after_ts: number } | undefined;
    return r && { destination: r.destination, failures: r.failures, retryAfterTs: r.retry_after_ts };
  }

  async setDestination(state: DestinationState): Promise<void> {
    this.q.setDest.run(state.destination, state.failures, state.retryAfterTs);
  }

  async getTxnResult(origin: string, txnId: string): Promise<JsonObject | undefined> {
    const text = this.q.getTxn.get(origin, txnId) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as JsonObject);
  }

  async putTxnResult(origin: string, txnId: string, result: JsonObject, ts: number): Promise<void> {
    putInboundTxn(this.prep, { origin, txnId, result, ts });
  }

  async deleteTxnsOlderThan(ts: number): Promise<void> {
    this.q.deleteTxns.run(ts);
  }
}
