/** The request pipeline in-process, with routes that exist only in this test. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { prepareSession } from '../../src/accounts/sessions.js';
import type { AppContext } from '../../src/app-context.js';
import { forbidden } from '../../src/http/errors.js';
import { defineRoute } from '../../src/http/route.js';
import { type RouteFixture, serveRoutes } from './route-fixture.js';

const calls: string[] = [];
const streams: Readable[] = [];
let fixture: RouteFixture;
let app: AppContext;
let base: string;
let token: string;

const routes = [
  defineRoute({
    method: 'GET',
    path: '/test/crash',
    auth: 'none',
    handler: async () => {
      throw new TypeError('unexpected bug');
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/test/echo/{a}/{b}',
    auth: 'required',
    body: z.object({ n: z.number().int() }),
    query: z.object({ q: z.string().optional() }),
    handler: async ({ params, body, query, requester }) => {
      calls.push(`handler ${requester.userId}`);
      return { status: 201, body: { a: params.a, b: params.b, n: body.n, q: query.q ?? null } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/test/limited',
    auth: 'required',
    rateLimit: 'login',
    body: z.object({ n: z.number().int() }),
    handler: async () => {
      calls.push('limited');
      return { body: {} };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/test/query',
    auth: 'required',
    query: z.object({}).catchall(z.union([z.string(), z.array(z.string())])),
    handler: async ({ query, requester }) => ({
      body: { query: { ...query }, user: requester.userId },
      headers: { 'Cache-Control': 'no-store' },
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/test/bytes/{kind}',
    auth: 'none',
    handler: async ({ params }) => {
      const data = Buffer.from('0123456789');
      if (params.kind === 'buffer') return { binary: { data, contentType: 'application/x-test; v=1' } };
      const stream = Readable.from(
        (async function* () {
          yield data.subarray(0, 5);
          if (params.kind === 'broken') throw new Error('disk gone');
          yield data.subarray(5);
        })(),
      );
      streams.push(stream);
      return { binary: { data: stream, contentType: 'application/x-test', length: data.length } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/test/forbidden',
    auth: 'optional',
    handler: async () => {
      throw forbidden('no', { extra_field: 1 });
    },
  }),
];

before(async () => {
  fixture = await serveRoutes(routes, { rate_limits: { login: { per_second: 0.001, burst: 2 } } });
  ({ app, base } = fixture);
  const storage = app.storage;
  await storage.accounts.createUser({
    userId: '@u:test.local',
    passwordHash: null,
    isAdmin: false,
    createdTs: 0,
    profile: {},
  });
  const s = prepareSession(app, { userId: '@u:test.local', wantsRefreshToken: false, ip: null });
  await storage.devices.createSession(s.record);
  token = s.response.access_token as string;
});

after(() => fixture.stop());

const post = (path: string, body: string, auth = true) =>
  fetch(base + path, {
    method: 'POST',
    body,
    headers: auth ? { authorization: `Bearer ${token}` } : {},
  });

test('an unexpected exception is a 500 M_UNKNOWN and the server keeps serving', async () => {
  const res = await fetch(`${base}/test/crash`);
  assert.equal(res.status, 500);
  assert.equal(((await res.json()) as { errcode: string }).errcode, 'M_UNKNOWN');
  const again = await fetch(`${base}/test/forbidden`);
  assert.equal(again.status, 403);
  assert.deepEqual(await again.json(), { extra_field: 1, errcode: 'M_FORBIDDEN', error: 'no' });
});

test('typed params, body and query reach the handler; status is passed through', async () => {
  const res = await post('/test/echo/x%2Fy/%40z?q=hi', '{"n": 5}');
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { a: 'x/y', b: '@z', n: 5, q: 'hi' });
});

test('pipeline order: auth → rate limit → body parsing → handler', async () => {
  calls.length = 0;
  const errcode = async (res: Response) => ((await res.json()) as { errcode?: string }).errcode;
  // No token: refused before the rate limit (so the bucket of burst 2 stays full) and before parsing.
  assert.equal(await errcode(await post('/test/limited', 'not json', false)), 'M_MISSING_TOKEN');
  assert.equal(await errcode(await post('/test/limited', 'not json', false)), 'M_MISSING_TOKEN');
  // Bad JSON and a schema failure take a token each but never reach the handler.
  assert.equal(await errcode(await post('/test/limited', 'not json')), 'M_NOT_JSON');
  assert.equal(await errcode(await post('/test/echo/a/b', '{"n": 1.5}')), 'M_BAD_JSON');
  assert.deepEqual(calls, []);
  assert.equal((await post('/test/limited', '{"n": 1}')).status, 200);
  assert.deepEqual(calls, ['limited']);
  // The bucket is empty: refused before parsing, even with a body that would fail to parse.
  const limited = await post('/test/limited', 'not json');
  assert.equal(limited.status, 429);
  const body = (await limited.json()) as { errcode: string; retry_after_ms: number };
  assert.equal(body.errcode, 'M_LIMIT_EXCEEDED');
  assert.ok(body.retry_after_ms > 0);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.deepEqual(calls, ['limited']);
});

test('a JSON reply carries CORS, request id, type and exact length in one header block; HEAD gets the headers only', async () => {
  const res = await fetch(`${base}/test/query?tag=a`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(text));
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f]{6}-[0-9a-z]+$/);
  assert.equal(res.headers.get('cache-control'), 'no-store', 'route headers are sent too');
  assert.equal(res.headers.get('transfer-encoding'), null);

  const head = await fetch(`${base}/test/query?tag=a`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(text));

  // Errors go out the same way, with their own headers.
  const wrong = await fetch(`${base}/test/query`, { method: 'DELETE' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('access-control-allow-origin'), '*');
  assert.match(wrong.headers.get('allow') ?? '', /GET/);
  const wrongText = await wrong.text();
  assert.equal(Number(wrong.headers.get('content-length')), Buffer.byteLength(wrongText));
  assert.equal((JSON.parse(wrongText) as { errcode: string }).errcode, 'M_UNRECOGNIZED');
});

test('query strings: repeated keys become arrays, + is a space, bad escapes stay as sent, the token may come from the query', async () => {
  const res = await fetch(`${base}/test/query?tag=a&tag=b+c&x=%zz&y=%E2%9C%93&__proto__=p&access_token=${encodeURIComponent(token)}`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { query: Record<string, unknown>; user: string };
  assert.equal(body.user, '@u:test.local');
  assert.deepEqual(body.query.tag, ['a', 'b c']);
  assert.equal(body.query.x, '%zz');
  assert.equal(body.query.y, '\u2713');
  assert.equal(Object.getPrototypeOf({}), Object.prototype, 'a __proto__ key changes no prototype');
  // A wrong token in the query is refused like one in the header.
  const bad = await fetch(`${base}/test/query?access_token=nope`);
  assert.equal(bad.status, 401);
  assert.equal(((await bad.json()) as { errcode: string }).errcode, 'M_UNKNOWN_TOKEN');
});

test('bytes: a buffer or a stream with its type verbatim and its length; HEAD sends the headers and releases the stream', async () => {
  const buf = await fetch(`${base}/test/bytes/buffer`);
  assert.equal(buf.status, 200);
  assert.equal(buf.headers.get('content-type'), 'application/x-test; v=1');
  assert.equal(buf.headers.get('content-length'), '10');
  assert.equal(buf.headers.get('access-control-allow-origin'), '*');
  assert.equal(await buf.text(), '0123456789');

  const streamed = await fetch(`${base}/test/bytes/stream`);
  assert.equal(streamed.headers.get('content-length'), '10');
  assert.equal(await streamed.text(), '0123456789');

  const head = await fetch(`${base}/test/bytes/stream`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '10');
  assert.equal(await head.text(), '');
  assert.equal(streams.at(-1)?.destroyed, true, 'the unread stream is destroyed, not left open');

  // A stream failing after its headers went out can only cut the connection.
  await assert.rejects(async () => (await fetch(`${base}/test/bytes/broken`)).text());
  assert.equal((await fetch(`${base}/test/bytes/buffer`)).status, 200, 'and the server keeps serving');
});

test('pre-flight and unknown paths: OPTIONS is 204 with CORS anywhere; an unknown path is 404 M_UNRECOGNIZED', async () => {
  const pre = await fetch(`${base}/no/such/path`, { method: 'OPTIONS' });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, POST, PUT, DELETE, OPTIONS');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'X-Requested-With, Content-Type, Authorization');
  const missing = await fetch(`${base}/no/such/path`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { errcode: string }).errcode, 'M_UNRECOGNIZED');
});

test('an absolute-form request target is routed by its path and query', async () => {
  const { port } = new URL(base);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.end(
        `GET http://127.0.0.1:${port}/test/query?tag=abs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
    });
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 200 /);
  assert.deepEqual((JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { query: unknown }).query, { tag: 'abs' });
});
