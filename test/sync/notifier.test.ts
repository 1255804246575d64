import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InProcessNotifier, type NotifierTransport, roomEventKeys, type StreamChange } from '../../src/notifier.js';

test('waitFor wakes on a notify for one of its keys, not for others', async () => {
  const n = new InProcessNotifier();
  const w = n.waitFor(['@a:x', '!room:x'], 60_000);
  n.notify('events', ['@other:x']);
  n.notify('account_data', ['!room:x']);
  assert.equal(await w, 'account_data');
});

test('a change after the mark but before the wait is not slept through', async () => {
  const n = new InProcessNotifier();
  const mark = n.mark();
  n.notify('events', ['!room:x']);
  n.notify('events', ['!elsewhere:x']);
  assert.equal(await n.waitFor(['!room:x'], 60_000, undefined, mark), 'events');
  const later = n.mark();
  const w = n.waitFor(['!room:x'], 0, undefined, later);
  assert.equal(await w, null, 'nothing new since the later mark');
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

test('changes travel through the transport (another process publishing wakes local waiters)', async () => {
  const published: StreamChange[] = [];
  let deliver: ((c: StreamChange) => void) | undefined;
  const transport: NotifierTransport = {
    publish: (c) => published.push(c),
    subscribe: (d) => {
      deliver = d;
    },
    close: () => {},
  };
  const n = new InProcessNotifier(transport);
  const w = n.waitFor(['@u:x'], 60_000);
  n.notify('account_data', ['@u:x']);
  assert.deepEqual(published, [{ stream: 'account_data', keys: ['@u:x'] }], 'local writes go out through the transport');
  deliver!({ stream: 'to_device', keys: ['@u:x'] });
  assert.equal(await w, 'to_device');
});

test('room events wake the room and the target of a membership change', () => {
  assert.deepEqual(roomEventKeys({ roomId: '!r:x', type: 'm.room.message', stateKey: undefined }), ['!r:x']);
  assert.deepEqual(roomEventKeys({ roomId: '!r:x', type: 'm.room.member', stateKey: '@i:x' }), ['!r:x', '@i:x']);
});

test('the per-key change record stays bounded; a wait from before what it forgot returns at once, later ones still wait', async () => {
  const n = new InProcessNotifier(undefined, 10);
  const early = n.mark();
  for (let i = 0; i < 25; i++) n.notify('events', [`!r${i}:x`]);
  // '!r0:x' changed after `early`, but its record is gone: the wait must not sleep through it.
  assert.equal(await n.waitFor(['!r0:x'], 60_000, undefined, early), 'events');
  // A recent change is still known precisely...
  assert.equal(await n.waitFor(['!r24:x'], 60_000, undefined, n.mark() - 1), 'events');
  // ...and a key that did not change since a recent mark waits.
  const recent = n.mark();
  const w = n.waitFor(['!r0:x'], 60_000, undefined, recent);
  let woken = false;
  void w.then(() => {
    woken = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(woken, false);
  n.notify('events', ['!r0:x']);
  assert.equal(await w, 'events');
  n.close();
});
