import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  advancedStreams,
  clampToken,
  compareTopo,
  formatSyncToken,
  formatTopoToken,
  makeSyncToken,
  maxToken,
  parsePaginationToken,
  parseSyncToken,
  STREAMS,
  tokenCovers,
  topoAfter,
  topoBefore,
  ZERO_TOKEN,
} from '../../src/sync/sync-token.js';

test('sync tokens round-trip through their wire form', () => {
  const t = makeSyncToken({ events: 72, accountData: 4, deviceLists: 9 });
  const text = formatSyncToken(t);
  assert.equal(text, `s72_4_0_0_0_0_9`);
  assert.deepEqual(parseSyncToken(text), t);
  assert.equal(formatSyncToken(ZERO_TOKEN), `s${STREAMS.map(() => '0').join('_')}`);
});

test('a token from before a stream was added parses with that stream at 0', () => {
  assert.deepEqual(parseSyncToken('s5_3'), makeSyncToken({ events: 5, accountData: 3 }));
  assert.deepEqual(parseSyncToken('s5'), makeSyncToken({ events: 5 }));
});

test('malformed sync tokens are refused, never thrown on', () => {
  for (const bad of ['', 's', 'x1_2', 's1__2', 's-1_0', 's01_2', 's1.5_0', 's1_2_3_4_5_6_7_8', 's 1', 's1_a', 's9999999999999999', 't1_2']) {
    assert.equal(parseSyncToken(bad), undefined, bad);
  }
});

test('comparisons work stream by stream', () => {
  const a = makeSyncToken({ events: 10, accountData: 2 });
  const b = makeSyncToken({ events: 8, accountData: 5 });
  assert.equal(tokenCovers(a, b), false);
  assert.equal(tokenCovers(maxToken(a, b), a), true);
  assert.equal(tokenCovers(maxToken(a, b), b), true);
  assert.deepEqual(advancedStreams(a, b), ['accountData']);
  assert.deepEqual(advancedStreams(b, a), ['events']);
  assert.deepEqual(clampToken(makeSyncToken({ events: 99, accountData: 1 }), a), makeSyncToken({ events: 10, accountData: 1 }));
});

test('pagination tokens: topological points and sync tokens are told apart', () => {
  const ev = { depth: 7, streamOrdering: 42 };
  assert.equal(formatTopoToken(topoBefore(ev)), 't7_42');
  assert.deepEqual(parsePaginationToken('t7_42'), { kind: 'topo', position: { depth: 7, stream: 42 } });
  assert.deepEqual(parsePaginationToken('s3_1'), { kind: 'stream', token: makeSyncToken({ events: 3, accountData: 1 }) });
  for (const bad of ['t7', 't7_', 't_1', 't1_2_3', 'tx_1', 'q1', '']) assert.equal(parsePaginationToken(bad), undefined, bad);
  // The point after an event sorts after the point before it and before the next event's.
  assert.ok(compareTopo(topoBefore(ev), topoAfter(ev)) < 0);
  assert.ok(compareTopo(topoAfter(ev), topoBefore({ depth: 7, streamOrdering: 43 })) <= 0);
  assert.ok(compareTopo(topoAfter(ev), topoBefore({ depth: 8, streamOrdering: 1 })) < 0);
});
