import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPromise, Settling } from '../../src/sync-engine/maybe-promise.js';

test('Settling hands out the promise until it has a value, then the value itself', async () => {
  let resolve!: (v: { n: number }) => void;
  const s = new Settling(new Promise<{ n: number }>((r) => (resolve = r)));
  const before = s.get();
  assert.ok(isPromise(before));
  assert.equal(s.known(), undefined);
  const value = { n: 1 };
  resolve(value);
  assert.equal(await before, value);
  assert.equal(s.get(), value, 'the same object, not a promise');
  assert.equal(s.known(), value);
});

test('Settling reports a rejection and keeps handing out the rejected promise', async () => {
  let failed = 0;
  const s = new Settling(Promise.reject(new Error('no')), () => failed++);
  await assert.rejects(s.get() as Promise<unknown>, /no/);
  await new Promise((r) => setImmediate(r));
  assert.equal(failed, 1);
  assert.ok(isPromise(s.get()));
});
