import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withStateChanges } from '../../src/storage/layered-state-map.js';

/** A tiny deterministic PRNG so failures reproduce. */
function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

function sorted(m: ReadonlyMap<string, string>): Array<[string, string]> {
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

test('derived maps behave like copies with the changes applied, and leave their sources alone', () => {
  const rand = rng(7);
  let state: ReadonlyMap<string, string> = new Map();
  let reference = new Map<string, string>();
  const history: Array<{ state: ReadonlyMap<string, string>; copy: Array<[string, string]> }> = [];
  for (let step = 0; step < 3000; step++) {
    const changes: Array<[string, string | null]> = [];
    const n = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) {
      const key = `m.room.member\u0000@u${Math.floor(rand() * 400)}:hs`;
      changes.push([key, rand() < 0.2 ? null : `$e${step}_${i}`]);
    }
    const next = withStateChanges(state, changes);
    reference = new Map(reference);
    for (const [k, v] of changes) {
      if (v === null) reference.delete(k);
      else reference.set(k, v);
    }
    assert.equal(next.size, reference.size, `size at step ${step}`);
    for (const [k] of changes) {
      assert.equal(next.get(k), reference.get(k));
      assert.equal(next.has(k), reference.has(k));
    }
    if (step % 97 === 0) {
      assert.deepEqual(sorted(next), sorted(reference));
      assert.deepEqual([...next.keys()].sort(), [...reference.keys()].sort());
      assert.deepEqual([...next.values()].sort(), [...reference.values()].sort());
      const viaForEach: Array<[string, string]> = [];
      next.forEach((v, k) => {
        viaForEach.push([k, v]);
      });
      assert.deepEqual(viaForEach.sort(), sorted(reference));
      history.push({ state: next, copy: sorted(reference) });
    }
    state = next;
  }
  // Older maps still read as they did when they were made.
  for (const h of history) assert.deepEqual(sorted(h.state), h.copy);
});

test('a change that re-adds a removed key, or removes an absent one, keeps the size right', () => {
  const base = new Map([
    ['a', '1'],
    ['b', '2'],
  ]);
  const removed = withStateChanges(base, [['a', null]]);
  assert.equal(removed.size, 1);
  assert.equal(removed.get('a'), undefined);
  const readded = withStateChanges(removed, [['a', '3'], ['zz', null]]);
  assert.equal(readded.size, 2);
  assert.equal(readded.get('a'), '3');
  assert.deepEqual(sorted(readded), [
    ['a', '3'],
    ['b', '2'],
  ]);
  assert.equal(base.get('a'), '1');
  assert.equal(base.size, 2);
});
