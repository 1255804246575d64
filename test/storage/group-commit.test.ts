import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { GroupCommit } from '../../src/storage/sqlite/group-commit.js';
import { WalSync } from '../../src/storage/sqlite/wal-sync.js';

/** A file database (so a second connection can see what is committed) with a table `t`. */
function fileDb() {
  const dir = mkdtempSync(join(tmpdir(), 'comet-gc-'));
  const path = join(dir, 'db.sqlite');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)');
  const reader = new Database(path, { readonly: true });
  const committed = () => (reader.prepare('SELECT v FROM t ORDER BY id').all() as Array<{ v: string }>).map((r) => r.v);
  return {
    db,
    committed,
    close() {
      reader.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('units submitted together share one transaction and settle only after it committed', async () => {
  const f = fileDb();
  try {
    const gc = new GroupCommit(f.db);
    const insert = f.db.prepare('INSERT INTO t (v) VALUES (?)');
    const log: string[] = [];
    const seenByOthers: string[][] = [];
    const units = Array.from({ length: 10 }, (_, i) =>
      gc
        .submit(() => {
          assert.equal(f.db.inTransaction, true);
          insert.run(`v${i}`);
          log.push(`work ${i}`);
          return i;
        })
        .then((value) => {
          log.push(`settled ${value}`);
          seenByOthers.push(f.committed());
        }),
    );
    // Nothing runs, let alone commits, before the batch is flushed.
    assert.deepEqual(f.committed(), []);
    await Promise.all(units);
    const works = log.filter((l) => l.startsWith('work'));
    assert.equal(works.length, 10);
    assert.ok(log.indexOf('settled 0') > log.indexOf('work 9'), 'every unit ran before any settled: one batch');
    for (const seen of seenByOthers) assert.equal(seen.length, 10, 'a settled unit is visible to another connection');
  } finally {
    f.close();
  }
});

test('a failing unit is rolled back alone; the rest of the batch commits', async () => {
  const f = fileDb();
  try {
    let rollbacks = 0;
    const gc = new GroupCommit(f.db, { onRollback: () => rollbacks++ });
    const insert = f.db.prepare('INSERT INTO t (v) VALUES (?)');
    const a = gc.submit(() => insert.run('a'));
    const bad = gc.submit(() => {
      insert.run('half-done');
      insert.run('a'); // UNIQUE violation: the whole unit, including 'half-done', must go
    });
    const c = gc.submit(() => insert.run('c'));
    const results = await Promise.allSettled([a, bad, c]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(f.committed(), ['a', 'c']);
    assert.equal(rollbacks, 1);
  } finally {
    f.close();
  }
});

test('a unit submitted while a batch commits goes into the next batch', async () => {
  const f = fileDb();
  try {
    const gc = new GroupCommit(f.db);
    const insert = f.db.prepare('INSERT INTO t (v) VALUES (?)');
    let second: Promise<unknown> | undefined;
    await gc.submit(() => {
      insert.run('first');
      second = gc.submit(() => insert.run('second'));
    });
    assert.deepEqual(f.committed(), ['first']);
    await second;
    assert.deepEqual(f.committed(), ['first', 'second']);
  } finally {
    f.close();
  }
});

test('flush commits pending units at once (used before closing)', async () => {
  const f = fileDb();
  try {
    const gc = new GroupCommit(f.db);
    const p = gc.submit(() => f.db.prepare('INSERT INTO t (v) VALUES (?)').run('x'));
    gc.flush();
    assert.deepEqual(f.committed(), ['x']);
    await p;
  } finally {
    f.close();
  }
});

/** A WAL sync the test completes by hand, counting the syncs asked for. */
function manualSync() {
  const pending: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  return {
    pending,
    sync: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
  };
}

/** A synchronous=FULL file database whose group commit syncs the WAL through a manualSync. */
function fullWithManualSync() {
  const f = fileDb();
  f.db.pragma('synchronous = FULL');
  const wal = manualSync();
  return { f, wal, gc: new GroupCommit(f.db, { walSync: wal }), insert: f.db.prepare('INSERT INTO t (v) VALUES (?)') };
}

test('with a WAL sync, a FULL connection commits with NORMAL and acknowledges only after the sync', async () => {
  const { f, wal, gc, insert } = fullWithManualSync();
  try {
    let levelInside = -1;
    let settled = 0;
    const units = ['a', 'b'].map((v) =>
      gc
        .submit(() => {
          levelInside = f.db.pragma('synchronous', { simple: true }) as number;
          return insert.run(v).lastInsertRowid;
        })
        .then((id) => {
          settled++;
          return id;
        }),
    );
    gc.flush();
    assert.equal(levelInside, 1, 'the batch commits with synchronous=NORMAL');
    assert.equal(f.db.pragma('synchronous', { simple: true }), 2, 'and the connection is back to FULL after it');
    assert.deepEqual(f.committed(), ['a', 'b'], 'committed');
    assert.equal(wal.pending.length, 1, 'one sync for the batch');
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, 0, 'nobody is told before the WAL is synced');
    wal.pending[0].resolve();
    assert.deepEqual(await Promise.all(units), [1, 2]);
  } finally {
    f.close();
  }
});

test('a failed WAL sync rejects every unit of its batch; without FULL no sync is asked for', async () => {
  const { f, wal, gc, insert } = fullWithManualSync();
  try {
    const units = ['a', 'b'].map((v) => gc.submit(() => insert.run(v)));
    gc.flush();
    wal.pending[0].reject(new Error('EIO'));
    for (const u of units) await assert.rejects(u, /EIO/);

    f.db.pragma('synchronous = OFF');
    const plain = gc.submit(() => insert.run('c'));
    gc.flush();
    await plain;
    assert.equal(wal.pending.length, 1, 'synchronous=OFF asked for no durability: no sync');
  } finally {
    f.close();
  }
});

test('WalSync: syncs asked for while one runs share the next one; close waits for them', async () => {
  const f = fileDb();
  try {
    f.db.prepare('INSERT INTO t (v) VALUES (?)').run('x');
    const wal = new WalSync(`${f.db.name}-wal`);
    const first = wal.sync();
    const second = wal.sync();
    const third = wal.sync();
    assert.notEqual(first, second, 'a sync that started earlier may not cover later frames');
    assert.equal(second, third, 'later callers share one sync');
    await Promise.all([first, second, third]);
    const after = wal.sync();
    await wal.close();
    await after;
    await assert.rejects(wal.sync(), /after close/);
  } finally {
    f.close();
  }
});
