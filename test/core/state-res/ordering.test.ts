import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mainlineOrder, reverseTopologicalPowerOrder } from '../../../src/core/state-res/ordering.js';
import { fakeGraph } from './fake-events.js';

const PL = { type: 'm.room.power_levels', stateKey: '' };

test('reverse topological power ordering: higher power first, then older, then smaller ID', () => {
  const power: Record<string, number> = { a: 50, b: 100, c: 50, d: 50 };
  const g = fakeGraph(
    { a: [], b: [], c: [], d: [] },
    { a: { ts: 5 }, b: { ts: 9 }, c: { ts: 5 }, d: { ts: 1 } },
  );
  const order = reverseTopologicalPowerOrder(new Set(['a', 'b', 'c', 'd']), g.lookup, (ev) => power[ev.eventId]);
  assert.deepEqual(order, ['b', 'd', 'a', 'c']);
});

test('reverse topological power ordering: auth ancestors come first, even through outside events', () => {
  // hi (power 100) depends on lo (power 0) through `mid`, which is not in the set.
  const power: Record<string, number> = { lo: 0, hi: 100, other: 50 };
  const g = fakeGraph({ lo: [], mid: ['lo'], hi: ['mid'], other: [] });
  const order = reverseTopologicalPowerOrder(new Set(['lo', 'hi', 'other']), g.lookup, (ev) => power[ev.eventId]);
  assert.deepEqual(order, ['other', 'lo', 'hi']);
});

test('mainline ordering: earlier mainline position first, then timestamp, then ID', () => {
  // Mainline p2 -> p1 -> p0; q is a power levels event off the mainline, based on p1.
  const g = fakeGraph(
    { p0: [], p1: ['p0'], p2: ['p1'], q: ['p1'], x: ['p2'], y: ['q'], z: ['p0'], w: [], v: ['p2'], u: ['p2'] },
    { p0: PL, p1: PL, p2: PL, q: PL, x: { ts: 1 }, y: { ts: 1 }, z: { ts: 9 }, w: { ts: 9 }, v: { ts: 1 }, u: { ts: 0 } },
  );
  // Positions: w ∞ (no power levels), z 2, y 1 (through q), x/v/u 0.
  assert.deepEqual(mainlineOrder(['x', 'y', 'z', 'w', 'v', 'u'], 'p2', g.lookup), ['w', 'z', 'y', 'u', 'v', 'x']);
  // Without a resolved power levels event every position is ∞.
  assert.deepEqual(mainlineOrder(['x', 'y', 'z', 'w', 'v', 'u'], undefined, g.lookup), ['u', 'v', 'x', 'y', 'w', 'z']);
});
