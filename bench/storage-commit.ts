/**
 * What durability costs: small single-row commits per second in WAL mode with synchronous=FULL (what
 * Comet uses: every acknowledged commit is fsynced) against NORMAL, and batched commits under FULL.
 * Run: node dist/bench/storage-commit.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

function measure(sync: 'FULL' | 'NORMAL', rowsPerCommit: number, commits: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'comet-bench-'));
  const db = new Database(join(dir, 'b.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  const body = 'x'.repeat(500);
  const commit = db.transaction(() => {
    for (let i = 0; i < rowsPerCommit; i++) insert.run(body);
  });
  const start = performance.now();
  for (let i = 0; i < commits; i++) commit();
  const secs = (performance.now() - start) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return (commits * rowsPerCommit) / secs;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`WAL synchronous=FULL,   1 row/commit:  ${fmt(measure('FULL', 1, 2000))} rows/s`);
console.log(`WAL synchronous=NORMAL, 1 row/commit:  ${fmt(measure('NORMAL', 1, 2000))} rows/s`);
console.log(`WAL synchronous=FULL,  50 rows/commit: ${fmt(measure('FULL', 50, 400))} rows/s`);
