import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authChain } from '../../../src/core/auth-chain.js';
import { conflictedSubgraph } from '../../../src/core/state-res/conflicted-set.js';
import { fakeGraph } from './fake-events.js';

test('authChain: all ancestors, without the inputs, through diamonds', () => {
  const g = fakeGraph({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: ['d'] });
  assert.deepEqual([...authChain(['e'], g.lookup)].sort(), ['a', 'b', 'c', 'd']);
  assert.deepEqual([...authChain(['b', 'c'], g.lookup)].sort(), ['a']);
  assert.deepEqual([...authChain(['d', 'b'], g.lookup)].sort(), ['a', 'b', 'c']);
  assert.equal(authChain(['a'], g.lookup).size, 0);
});

test('authChain: unknown auth events are reported but not walked; unknown inputs give nothing', () => {
  const g = fakeGraph({ a: ['ghost'], b: ['a'] });
  assert.deepEqual([...authChain(['b'], g.lookup)].sort(), ['a', 'ghost']);
  assert.equal(authChain(['nope'], g.lookup).size, 0);
});

test('authChain: a 200,000-deep chain does not overflow the stack', () => {
  const shape: Record<string, string[]> = { e0: [] };
  for (let i = 1; i < 200_000; i++) shape[`e${i}`] = [`e${i - 1}`];
  const g = fakeGraph(shape);
  assert.equal(authChain(['e199999'], g.lookup).size, 199_999);
});

test('conflicted subgraph: events on auth paths between conflicted events, endpoints included', () => {
  // c1 -> x -> y -> c2, c1 -> z -> root (z leads to no conflicted event), c3 -> y.
  const g = fakeGraph({ root: [], c2: ['root'], y: ['c2'], x: ['y'], z: ['root'], c1: ['x', 'z'], c3: ['y'], lone: [] });
  const sub = conflictedSubgraph(new Set(['c1', 'c2', 'c3', 'lone']), g.lookup);
  assert.deepEqual([...sub].sort(), ['c1', 'c2', 'c3', 'lone', 'x', 'y']);
});
