import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { migrate, SchemaTooNewError } from '../../src/storage/sqlite/database.js';
import type { Migration } from '../../src/storage/sqlite/migrations/index.js';

const m1: Migration = { version: 1, name: 'one', up: (db) => db.exec('CREATE TABLE a (x INTEGER)') };
const m2: Migration = { version: 2, name: 'two', up: (db) => db.exec('CREATE TABLE b (y INTEGER)') };
const broken: Migration = {
  version: 3,
  name: 'broken',
  up: (db) => {
    db.exec('CREATE TABLE c (z INTEGER)');
    throw new Error('boom');
  },
};

test('migrations apply once, in order, and are recorded', () => {
  const db = new Database(':memory:');
  assert.equal(migrate(db, [m2, m1]), 2);
  assert.equal(migrate(db, [m1, m2]), 2, 're-running is a no-op');
  const rows = db.prepare('SELECT version, name FROM schema_version ORDER BY version').all();
  assert.deepEqual(rows, [
    { version: 1, name: 'one' },
    { version: 2, name: 'two' },
  ]);
});

test('a failing migration leaves nothing behind; a newer database is refused', () => {
  const db = new Database(':memory:');
  migrate(db, [m1]);
  assert.throws(() => migrate(db, [m1, m2, broken]), /boom/);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'c'").all();
  assert.deepEqual(tables, []);
  const { v } = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number };
  assert.equal(v, 2, 'migration 2 committed before 3 failed');
  assert.throws(() => migrate(db, [m1]), SchemaTooNewError);
});

test('a lower-numbered migration that arrives after a higher one is still applied', () => {
  const db = new Database(':memory:');
  migrate(db, [m2]);
  assert.equal(migrate(db, [m1, m2]), 2);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b') ORDER BY name").all();
  assert.deepEqual(tables, [{ name: 'a' }, { name: 'b' }]);
});
