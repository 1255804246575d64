/** The shared timer wheel behind WebSocket heartbeats. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TickWheel } from '../../src/ws-sync/tick-wheel.js';

test('every member is visited once per period, one slot per tick; removed members are not', async () => {
  const visits = new Map<string, number>();
  const wheel = new TickWheel<string>(100, (m) => visits.set(m, (visits.get(m) ?? 0) + 1), 4);
  const slots = new Map(['a', 'b', 'c', 'd', 'e'].map((m) => [m, wheel.add(m)]));
  assert.deepEqual([...slots.values()], [0, 1, 2, 3, 0], 'spread round-robin');
  assert.equal(wheel.size, 5);
  wheel.remove('e', slots.get('e')!);
  assert.equal(wheel.size, 4);
  wheel.start();
  // Wait until every slot has had at least one tick (the assertion is on counts, not on timing).
  while (visits.size < 4) await new Promise((r) => setTimeout(r, 10));
  wheel.stop();
  assert.deepEqual([...visits.keys()].sort(), ['a', 'b', 'c', 'd']);
  assert.equal(visits.has('e'), false);
});

test('a member may remove itself while being visited', () => {
  const slots = new Map<string, number>();
  const wheel: TickWheel<string> = new TickWheel<string>(40, (m) => wheel.remove(m, slots.get(m)!), 1);
  for (const m of ['x', 'y']) slots.set(m, wheel.add(m));
  (wheel as unknown as { tick(): void }).tick();
  assert.equal(wheel.size, 0);
});
