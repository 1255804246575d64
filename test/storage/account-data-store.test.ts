import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

test('account data changes come back in stream order, latest value only, per user', async () => {
  const s = SqliteStorage.open(':memory:');
  const ad = s.accountData;
  const start = await ad.currentStreamId();
  const p1 = await ad.put('@a:x', null, 't1', { v: 1 });
  await ad.put('@b:x', null, 't1', { other: true });
  const p2 = await ad.put('@a:x', '!r:x', 't2', { v: 2 });
  const p3 = await ad.put('@a:x', null, 't1', { v: 3 });
  assert.ok(start < p1 && p1 < p2 && p2 < p3);
  assert.equal(await ad.currentStreamId(), p3);
  assert.deepEqual(await ad.changesSince('@a:x', start), [
    { roomId: '!r:x', type: 't2', content: { v: 2 }, streamId: p2 },
    { roomId: null, type: 't1', content: { v: 3 }, streamId: p3 },
  ]);
  assert.deepEqual(await ad.changesSince('@a:x', p2), [{ roomId: null, type: 't1', content: { v: 3 }, streamId: p3 }]);
  const t = await ad.setTag('@a:x', '!r:x', 'u.x', { order: 0.5 });
  assert.deepEqual(await ad.get('@a:x', '!r:x', 'm.tag'), { tags: { 'u.x': { order: 0.5 } } });
  assert.ok(t > p3);
  await s.close();
});
