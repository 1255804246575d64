import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypingService } from '../../src/ephemeral/typing.js';
import { InProcessNotifier } from '../../src/notifier.js';

const joined = async () => 'join';

test('typing changes within the coalescing window wake readers once, for every room changed', async () => {
  const notifier = new InProcessNotifier();
  const typing = new TypingService(notifier, () => Date.now(), joined, undefined, 50);
  try {
    const mark = notifier.mark();
    const before = typing.currentPosition();
    await typing.setTyping('!a:hs', '@u:hs', true);
    await typing.setTyping('!a:hs', '@v:hs', true);
    await typing.setTyping('!b:hs', '@u:hs', true);
    // Positions move at once (a sync built now already sees the changes) ...
    assert.equal(typing.currentPosition(), before + 3);
    assert.deepEqual([...typing.changesFor(['!a:hs', '!b:hs'], before, typing.currentPosition()).keys()], ['!a:hs', '!b:hs']);
    // ... and so does the notifier's mark (a sync started now reads the new position), but nobody
    // waiting on the rooms is woken until the window ends, then once for both rooms.
    const moved = notifier.mark();
    assert.equal(moved, mark + 3);
    let woken = 0;
    const waits = ['!a:hs', '!b:hs'].map((room) =>
      notifier.waitFor([room], 5000, undefined, mark).then((stream) => {
        woken++;
        return stream;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(woken, 0, 'not woken by the keyless notifications');
    assert.deepEqual(await Promise.all(waits), ['typing', 'typing']);
    assert.equal(notifier.mark(), moved + 1);
  } finally {
    typing.close();
  }
});

test('without a window every change wakes readers at once', async () => {
  const notifier = new InProcessNotifier();
  const typing = new TypingService(notifier, () => Date.now(), joined);
  try {
    const mark = notifier.mark();
    await typing.setTyping('!a:hs', '@u:hs', true);
    await typing.setTyping('!a:hs', '@v:hs', true);
    assert.equal(notifier.mark(), mark + 2);
  } finally {
    typing.close();
  }
});
