import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lru } from '../../src/storage/sqlite/lru.js';

test('Lru keeps recently used entries and evicts the oldest', () => {
  const lru = new Lru<number, string>(4);
  for (let i = 0; i < 4; i++) lru.set(i, `v${i}`);
  // 0 is used again: it survives the next insertions, 1 (never used since) does not.
  assert.equal(lru.get(0), 'v0');
  lru.set(4, 'v4');
  lru.set(5, 'v5');
  lru.set(6, 'v6');
  assert.equal(lru.get(1), undefined);
  assert.equal(lru.get(6), 'v6');
  assert.equal(lru.get(5), 'v5');
});

test('Lru holds at most twice its size, at least its size, and set replaces a value', () => {
  const lru = new Lru<number, number>(10);
  for (let i = 0; i < 1000; i++) lru.set(i, i);
  let held = 0;
  for (let i = 0; i < 1000; i++) if (lru.get(i) !== undefined) held++;
  assert.ok(held <= 20 && held >= 10, `held ${held}`);
  lru.set(999, -1);
  assert.equal(lru.get(999), -1);
  lru.clear();
  assert.equal(lru.get(999), undefined);
});
