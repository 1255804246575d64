/**
 * Opens the SQLite database and brings its schema up to date.
 *
 * Durability: WAL with synchronous=FULL fsyncs the WAL on every commit, so an acknowledged write
 * survives a process crash AND a power loss. (synchronous=NORMAL survives a process crash but may lose
 * the last commits on power loss, which "acknowledged writes are never lost" does not allow.)
 * Event batches keep that guarantee with the fsync moved off the event loop: GroupCommit commits
 * them with NORMAL and acknowledges after syncing the WAL on the thread pool (wal-sync.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export class SchemaTooNewError extends Error {}

export function openDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Another process (e.g. `comet register-user` while the server runs) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
    migrate(db, migrations);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Applies every migration not yet recorded, each in its own transaction, in version order. Checking
 * each version (not just the highest) lets migrations numbered on parallel branches land in any order.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts INTEGER NOT NULL) STRICT`);
  const applied = new Set((db.prepare('SELECT version FROM schema_version').all() as { version: number }[]).map((r) => r.version));
  const current = Math.max(0, ...applied);
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  if (current > latest) {
    throw new SchemaTooNewError(`database schema version ${current} is newer than this Comet (${latest}); upgrade Comet`);
  }
  const record = db.prepare('INSERT INTO schema_version (version, name, applied_ts) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      m.up(db);
      record.run(m.version, m.name, Date.now());
    }).immediate();
  }
  return latest;
}
