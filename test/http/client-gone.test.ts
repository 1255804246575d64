/** The route pipeline's abort signal: aborted when the client goes away, not when the response completes. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defineRoute } from '../../src/http/route.js';
import type { WaitSignal } from '../../src/notifier.js';
import { type RouteFixture, serveRoutes } from './route-fixture.js';

let fixture: RouteFixture;
let base: string;
const seen: WaitSignal[] = [];
let aborted: () => void = () => {};
let markClientGone: () => void = () => {};
const clientGone = new Promise<void>((resolve) => {
  markClientGone = resolve;
});
let lateChecked: () => void = () => {};
let lateEntered: () => void = () => {};

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
    path: '/test/late',
    auth: 'none',
    // Looks at its signal only after the client has gone (the signal is made on first use).
    handler: async (req) => {
      lateEntered();
      await clientGone;
      seen.push(req.signal);
      lateChecked();
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
  fixture = await serveRoutes(routes);
  base = fixture.base;
});

after(() => fixture.stop());

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

test('a signal first asked for after the client went away is already aborted', async () => {
  const checked = new Promise<void>((resolve) => {
    lateChecked = resolve;
  });
  const entered = new Promise<void>((resolve) => {
    lateEntered = resolve;
  });
  const before = seen.length;
  const client = new AbortController();
  const req = fetch(`${base}/test/late`, { signal: client.signal }).catch((e: Error) => e);
  await entered;
  client.abort();
  // Released once the server has seen the connection close.
  const deadline = Date.now() + 5000;
  while ((await fixture.connections()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  markClientGone();
  await checked;
  assert.equal(seen.length, before + 1);
  assert.equal(seen.at(-1)!.aborted, true);
  assert.ok((await req) instanceof Error);
});
