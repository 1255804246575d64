import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineQueue } from '../../src/ephemeral/deadline-queue.js';

test('fires due keys in deadline order; a reschedule replaces the earlier deadline; cancel drops it', () => {
  let now = 0;
  const fired: string[] = [];
  const q = new DeadlineQueue<string>(() => now, (k) => fired.push(k));
  q.schedule('a', 30);
  q.schedule('b', 10);
  q.schedule('c', 20);
  q.schedule('a', 50);
  q.schedule('d', 25);
  q.cancel('d');
  now = 25;
  q.runDue();
  assert.deepEqual(fired, ['b', 'c']);
  now = 49;
  q.runDue();
  assert.deepEqual(fired, ['b', 'c'], 'a was moved to 50');
  now = 50;
  q.runDue();
  assert.deepEqual(fired, ['b', 'c', 'a']);
  q.close();
});

test('many reschedules of few keys stay bounded and fire once each', () => {
  let now = 0;
  const fired: number[] = [];
  const q = new DeadlineQueue<number>(() => now, (k) => fired.push(k));
  for (let i = 0; i < 10_000; i++) q.schedule(i % 3, 100 + i);
  now = 1_000_000;
  q.runDue();
  assert.deepEqual(fired.sort(), [0, 1, 2]);
  q.close();
});

test('the real timer fires without help', async () => {
  const q = new DeadlineQueue<string>(Date.now, (k) => done(k));
  let done!: (k: string) => void;
  const fired = new Promise<string>((r) => {
    done = r;
  });
  // The queue's timer is unref'd (it must not hold a server open); a timer firing a millisecond
  // early re-arms it, so something has to keep this test's event loop alive meanwhile.
  const keepAlive = setTimeout(() => done('deadline passed'), 5_000);
  q.schedule('x', Date.now() + 5);
  assert.equal(await fired, 'x');
  clearTimeout(keepAlive);
  q.close();
});
