/** The route pipeline's abort signal: aborted when the client goes away, not when the response completes. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { type AppContext, createAppContext } from '../../src/app-context.js';
import { parseConfig } from '../../src/config/config.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import { type Listener, listen, stopListener } from '../../src/http/listen.js';
import { defineRoute } from '../../src/http/route.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

let app: AppContext;
let http: HttpApp;
let listener: Listener;
let base: string;
const seen: AbortSignal[] = [];
let aborted: () => void = () => {};

const routes = [
  defineRoute({
    method: 'GET',
    path: '/test/wait',
    auth: 'none',
    handler: async ({ signal }) => {
      seen.push(signal);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      aborted();
      return { body: {} };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/test/quick',
    auth: 'none',
    handler: async ({ signal }) => {
      seen.push(signal);
      return { body: { ok: true } };
    },
  }),
];

before(async () => {
  const config = parseConfig(
    {
      server_name: 'test.local',
      listeners: { client: { host: '127.0.0.1', port: 0 } },
      database: { path: ':memory:' },
      signing_key_path: 'unused',
    },
    '/',
  );
  const storage = SqliteStorage.open(':memory:');
  app = createAppContext({ config, logger: pino({ level: 'silent' }), storage, signingKey: generateSigningKey() });
  http = createHttpApp(app, routes);
  listener = await listen(http, '127.0.0.1', 0);
  base = `http://127.0.0.1:${listener.port}`;
});

after(async () => {
  await stopListener(http, listener, 1000);
  await app.storage.close();
});

test('a handler waiting on its signal is released when the client disconnects', async () => {
  const released = new Promise<void>((resolve) => {
    aborted = resolve;
  });
  const client = new AbortController();
  const req = fetch(`${base}/test/wait`, { signal: client.signal }).catch((e: Error) => e);
  while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(seen[0].aborted, false, 'not aborted while the client waits');
  client.abort();
  await released;
  assert.equal(seen[0].aborted, true);
  assert.ok((await req) instanceof Error);
});

test('a completed response does not abort its signal', async () => {
  const res = await fetch(`${base}/test/quick`);
  assert.deepEqual(await res.json(), { ok: true });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(seen.at(-1)!.aborted, false);
});
