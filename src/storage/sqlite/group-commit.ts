/**
 * Group commit: writes submitted close together share one SQLite transaction, so one fsync
 * (synchronous=FULL) covers many of them instead of one fsync each.
 *
 * Durability is unchanged: every submitter's promise settles only after COMMIT returned and, with
 * a WalSync, after the WAL was synced, so nothing is acknowledged before it is on disk. (Reads on
 * this connection may see a batch's rows during that sync; its writers are told, and announce it,
 * only after.) The transaction is opened, filled and committed
 * in one synchronous stretch (on `setImmediate` after the first submission), so no other code on
 * the shared connection ever runs while it is open: nobody reads uncommitted rows and no foreign
 * write slips into the batch. Each unit runs in its own savepoint: a unit that throws is rolled
 * back alone and only its promise rejects; if the COMMIT itself fails, every unit rejects.
 */
import type Database from 'better-sqlite3';
import { type WalSync, withoutCommitSync } from './wal-sync.js';

interface Unit {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Called after any rollback (of a unit or of the whole batch), e.g. to drop caches filled by rolled-back writes. */
  onRollback?: () => void;
  /**
   * Syncs the WAL off the event loop (see wal-sync.ts). While the connection asks for
   * synchronous=FULL or more, batches then commit with NORMAL and are acknowledged after this sync.
   */
  walSync?: Pick<WalSync, 'sync'>;
}

export class GroupCommit {
  private pending: Unit[] = [];
  private scheduled = false;
  /** Inside an open transaction better-sqlite3 runs a transaction function as a savepoint. */
  private readonly savepoint: (u: Unit) => unknown;
  private readonly batch: Database.Transaction<(units: Unit[], outcomes: Outcome[]) => boolean>;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: GroupCommitOptions = {},
  ) {
    this.savepoint = db.transaction((u: Unit) => u.work());
    this.batch = db.transaction((units: Unit[], outcomes: Outcome[]) => {
      let failures = false;
      for (const u of units) {
        try {
          outcomes.push({ ok: true, value: this.savepoint(u) });
        } catch (error) {
          failures = true;
          outcomes.push({ ok: false, error });
        }
      }
      return failures;
    });
  }

  /** Runs `work` inside the next shared transaction; resolves with its result once that transaction committed. */
  submit<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits whatever is pending now (also used before closing the database). */
  flush(): void {
    this.scheduled = false;
    const units = this.pending;
    this.pending = [];
    if (units.length === 0) return;
    const outcomes: Outcome[] = [];
    const walSync = this.opts.walSync;
    let rolledBack: boolean;
    let deferSync = false;
    try {
      const commit = () => this.batch.immediate(units, outcomes);
      if (walSync) ({ result: rolledBack, deferred: deferSync } = withoutCommitSync(this.db, commit));
      else rolledBack = commit();
    } catch (error) {
      this.opts.onRollback?.();
      for (const u of units) u.reject(error);
      return;
    }
    if (rolledBack) this.opts.onRollback?.();
    const settle = () =>
      units.forEach((u, i) => {
        const o = outcomes[i];
        if (o.ok) u.resolve(o.value);
        else u.reject(o.error);
      });
    if (deferSync && walSync)
      walSync.sync().then(settle, (error) => {
        // Committed, but not known to be on disk: nobody may take it as acknowledged.
        for (const u of units) u.reject(error);
      });
    else settle();
  }
}
