import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InProcessNotifier } from '../src/notifier.js';

test('waitFor wakes on a notify for one of its keys, not for others', async () => {
  const n = new InProcessNotifier();
  const w = n.waitFor(['@a:x', '!room:x'], 60_000);
  n.notify('events', ['@other:x']);
  n.notify('account_data', ['!room:x']);
  assert.equal(await w, 'account_data');
});

test('waitFor resolves null on timeout, on abort, and on close', async () => {
  const n = new InProcessNotifier();
  assert.equal(await n.waitFor(['k'], 0), null);
  const ac = new AbortController();
  const aborted = n.waitFor(['k'], 60_000, ac.signal);
  ac.abort();
  assert.equal(await aborted, null);
  const pending = n.waitFor(['k'], 60_000);
  n.close();
  assert.equal(await pending, null);
  assert.equal(await n.waitFor(['k'], 60_000), null, 'after close waits return at once');
});
