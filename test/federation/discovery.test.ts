import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type DiscoveryDeps,
  parseWellKnown,
  ServerDiscovery,
  type SrvRecord,
  WELL_KNOWN_ERROR_MS,
  WELL_KNOWN_MAX_MS,
  wellKnownCacheMs,
} from '../../federation/client/discovery.js';

function fixture(wellKnown: Record<string, string | Error>, srv: Record<string, SrvRecord[]> = {}, overrides = new Map()) {
  let now = 1_000_000;
  const calls = { wellKnown: [] as string[], srv: [] as string[] };
  const deps: DiscoveryDeps = {
    overrides,
    now: () => now,
    async resolveSrv(name) {
      calls.srv.push(name);
      const r = srv[name];
      if (!r) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return r;
    },
    async fetchWellKnown(host) {
      calls.wellKnown.push(host);
      const r = wellKnown[host];
      if (r instanceof Error) throw r;
      return { server: r, cacheMs: 3600_000 };
    },
  };
  return { d: new ServerDiscovery(deps), calls, advance: (ms: number) => (now += ms) };
}

test('IP literals and explicit ports skip delegation', async () => {
  const { d, calls } = fixture({});
  assert.deepEqual(await d.resolve('1.2.3.4'), { host: '1.2.3.4', port: 8448, tlsName: '1.2.3.4', hostHeader: '1.2.3.4' });
  assert.deepEqual(await d.resolve('[::1]:9000'), { host: '::1', port: 9000, tlsName: '::1', hostHeader: '[::1]:9000' });
  assert.deepEqual(await d.resolve('a.test:8449'), { host: 'a.test', port: 8449, tlsName: 'a.test', hostHeader: 'a.test:8449' });
  assert.deepEqual(calls, { wellKnown: [], srv: [] });
});

test('well-known delegation: with port, without port (SRV, then 8448), to an IP', async () => {
  const { d } = fixture(
    { 'a.test': 'fed.a.test:443', 'b.test': 'fed.b.test', 'c.test': 'fed.c.test', 'i.test': '10.0.0.1' },
    { '_matrix-fed._tcp.fed.b.test': [{ name: 'srv.b.test', port: 1234, priority: 0, weight: 0 }] },
  );
  assert.deepEqual(await d.resolve('a.test'), { host: 'fed.a.test', port: 443, tlsName: 'fed.a.test', hostHeader: 'fed.a.test:443' });
  assert.deepEqual(await d.resolve('b.test'), { host: 'srv.b.test', port: 1234, tlsName: 'fed.b.test', hostHeader: 'fed.b.test' });
  assert.deepEqual(await d.resolve('c.test'), { host: 'fed.c.test', port: 8448, tlsName: 'fed.c.test', hostHeader: 'fed.c.test' });
  assert.deepEqual(await d.resolve('i.test'), { host: '10.0.0.1', port: 8448, tlsName: '10.0.0.1', hostHeader: '10.0.0.1' });
});

test('without well-known: _matrix-fed._tcp, then the deprecated _matrix._tcp, then 8448; certificate for the server name', async () => {
  const { d, calls } = fixture(
    { 'x.test': new Error('ECONNREFUSED') },
    {
      '_matrix._tcp.y.test': [
        { name: 'slow.y.test', port: 2, priority: 10, weight: 0 },
        { name: 'fast.y.test', port: 1, priority: 1, weight: 5 },
      ],
    },
  );
  assert.deepEqual(await d.resolve('x.test'), { host: 'x.test', port: 8448, tlsName: 'x.test', hostHeader: 'x.test' });
  assert.deepEqual(calls.srv, ['_matrix-fed._tcp.x.test', '_matrix._tcp.x.test']);
  assert.deepEqual(await d.resolve('y.test'), { host: 'fast.y.test', port: 1, tlsName: 'y.test', hostHeader: 'y.test' });
});

test('well-known answers are cached; failures for at most an hour', async () => {
  const { d, calls, advance } = fixture({ 'a.test': 'fed.a.test:443', 'down.test': new Error('boom') });
  await d.resolve('a.test');
  await d.resolve('a.test');
  assert.deepEqual(calls.wellKnown, ['a.test']);
  await d.resolve('down.test');
  await d.resolve('down.test');
  assert.deepEqual(calls.wellKnown, ['a.test', 'down.test']);
  advance(WELL_KNOWN_ERROR_MS + 1);
  await d.resolve('down.test');
  assert.deepEqual(calls.wellKnown, ['a.test', 'down.test', 'down.test']);
});

test('the resolve override skips discovery but keeps the server name for TLS and Host', async () => {
  const { d, calls } = fixture({}, {}, new Map([['hs1.test', { host: '127.0.0.1', port: 4000 }]]));
  assert.deepEqual(await d.resolve('hs1.test'), { host: '127.0.0.1', port: 4000, tlsName: 'hs1.test', hostHeader: 'hs1.test' });
  assert.deepEqual(calls, { wellKnown: [], srv: [] });
});

test('well-known parsing and cache lifetimes', () => {
  assert.equal(parseWellKnown({ 'm.server': 'fed.test:443' }), 'fed.test:443');
  assert.equal(parseWellKnown({ 'm.server': 'bad name' }), undefined);
  assert.equal(parseWellKnown({}), undefined);
  assert.equal(parseWellKnown([]), undefined);
  assert.equal(wellKnownCacheMs('max-age=60', undefined, 0), 60_000);
  assert.equal(wellKnownCacheMs('public, max-age=999999999', undefined, 0), WELL_KNOWN_MAX_MS);
  assert.equal(wellKnownCacheMs('no-store', undefined, 0), 0);
  assert.equal(wellKnownCacheMs(undefined, new Date(120_000).toUTCString(), 0), 120_000);
  assert.equal(wellKnownCacheMs(undefined, undefined, 0), 24 * 3600_000);
});
