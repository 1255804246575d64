import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildGate } from '../../src/sync-engine/build-gate.js';

test('at most `limit` tasks run at once; the others start in arrival order as slots free', async () => {
  const gate = new BuildGate(3);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases: Array<() => void> = [];
  const tasks = Array.from({ length: 10 }, (_, i) =>
    gate.run(async () => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => releases.push(r));
      running--;
      return i * 2;
    }),
  );
  // A few event-loop turns: a slot may be handed on through setImmediate.
  const settle = async () => {
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  };
  await settle();
  assert.deepEqual(started, [0, 1, 2]);
  while (releases.length > 0 || started.length < 10) {
    const r = releases.shift();
    r?.();
    await settle();
  }
  assert.deepEqual(await Promise.all(tasks), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(peak, 3);
});

test('a task that throws frees its slot and the error reaches its caller', async () => {
  const gate = new BuildGate(1);
  await assert.rejects(
    gate.run(async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await gate.run(async () => 'next'), 'next');
});
