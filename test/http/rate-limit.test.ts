import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../src/http/rate-limit.js';

test('token bucket: burst, then refill at per_second, per requester', () => {
  let now = 1_000_000;
  const rl = new RateLimiter({ login: { per_second: 2, burst: 3 } }, { now: () => now });
  assert.equal(rl.take('login', 'a'), 0);
  assert.equal(rl.take('login', 'a'), 0);
  assert.equal(rl.take('login', 'a'), 0);
  const wait = rl.take('login', 'a');
  assert.equal(wait, 500);
  assert.equal(rl.take('login', 'b'), 0, 'another requester has its own bucket');
  now += 500;
  assert.equal(rl.take('login', 'a'), 0);
  assert.ok(rl.take('login', 'a') > 0);
  now += 10_000;
  for (let i = 0; i < 3; i++) assert.equal(rl.take('login', 'a'), 0, 'refills up to burst only');
  assert.ok(rl.take('login', 'a') > 0);
});
