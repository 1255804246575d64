/**
 * Makes committed WAL frames durable with an fdatasync on libuv's thread pool instead of inside
 * COMMIT on the main thread.
 *
 * Why: with synchronous=FULL SQLite fsyncs the WAL inside every COMMIT, and better-sqlite3 runs
 * COMMIT on the event loop's thread. A fsync usually takes half a millisecond, but on a shared disk
 * one in a hundred took over 15 ms and the worst 194 ms (measured during the fan-out bench), and for
 * that long no request, delivery or timer ran at all. Committing with synchronous=NORMAL (no fsync)
 * and then syncing the WAL file here gives the same guarantee to writers (GroupCommit acknowledges
 * only after the sync) while the event loop goes on.
 *
 * A WAL committed under NORMAL is still consistent after a power loss (SQLite's own guarantee);
 * the sync only adds durability. Frames are appended in place, so syncing the file's inode covers
 * every commit made before the sync started, whichever descriptor wrote them.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';
import type Database from 'better-sqlite3';

/**
 * Runs `fn` (which commits) with synchronous=NORMAL, so COMMIT does not fsync, and puts the
 * connection's level back after. `deferred` says whether durability had been asked for (FULL, 2,
 * or EXTRA, 3): only then is there a sync to make up for; below that `fn` runs as it is.
 */
export function withoutCommitSync<T>(db: Database.Database, fn: () => T): { result: T; deferred: boolean } {
  const level = db.pragma('synchronous', { simple: true }) as number;
  if (level < 2) return { result: fn(), deferred: false };
  db.pragma('synchronous = NORMAL');
  try {
    return { result: fn(), deferred: true };
  } finally {
    db.pragma(`synchronous = ${level}`);
  }
}

export class WalSync {
  private fd: number | undefined;
  /** The sync in progress. */
  private running: Promise<void> | undefined;
  /** The sync that starts when `running` ends, shared by every commit made while it runs. */
  private queued: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly walPath: string) {}

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.running === undefined) return this.start();
    // The running sync may have started before this caller's frames were written: wait for the next one.
    this.queued ??= this.running
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  /** Waits for syncs under way, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.running, this.queued]);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private start(): Promise<void> {
    const run = new Promise<void>((resolve, reject) => {
      if (this.closed) throw new Error('WAL sync after close');
      // Opened on first use: SQLite creates the WAL file with the first write.
      this.fd ??= openSync(this.walPath, 'r');
      fdatasync(this.fd, (err) => (err ? reject(err) : resolve()));
    });
    this.running = run;
    const done = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(done, done);
    return run;
  }
}
