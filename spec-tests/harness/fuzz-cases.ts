/**
 * Deterministic malformed-input cases for one route, derived from the route definition itself
 * (method, path parameters, body and query schemas), and a raw HTTP sender that keeps the path
 * exactly as built (fetch and `new URL` would normalise `..` and re-encode bytes).
 */
import { request } from 'node:http';
import type { z } from 'zod';
import type { Route } from '../../src/http/route.js';

export interface FuzzCase {
  /** Short label for failure messages. */
  label: string;
  method: string;
  /** Path and query string, sent verbatim. */
  url: string;
  body?: Buffer;
  contentType?: string;
  /** The input names a server nobody can reach: 502/504 are acceptable answers. */
  remote?: boolean;
  /** Authorization: the route user's token unless overridden ('' sends none). */
  authorization?: string;
  /** The exact answer the spec asks for, where the input alone decides it. */
  expect?: { status: number; errcode: string };
}

export interface RawReply {
  status: number;
  text: string;
  contentType: string;
}

/** Good values for each path parameter name; each case breaks exactly one of them. */
export type ParamValues = Record<string, string>;

const SIGILS: Record<string, string> = { '!': '@', '@': '#', '#': '$', $: '!', '+': '@' };

/** Bad values for one path parameter (already percent-encoded as they go on the wire). */
function badParamValues(name: string, good: string): { label: string; value: string; remote?: boolean }[] {
  const sigil = good[0] in SIGILS ? good[0] : undefined;
  const wrongSigil = sigil ? SIGILS[sigil] + good.slice(1) : `@${good}`;
  const unknown = sigil ? `${sigil}unknownfuzz:hs1.test` : `unknownfuzz${name}`;
  const out: { label: string; value: string; remote?: boolean }[] = [
    { label: 'empty', value: '' },
    { label: 'dotdot', value: '..' },
    { label: 'encoded-dotdot', value: '%2E%2E%2F%2E%2E' },
    { label: 'nul', value: '%00' },
    { label: 'bad-percent', value: '%' },
    { label: 'invalid-utf8', value: '%FF%FE' },
    { label: 'overlong', value: 'a'.repeat(6000) },
    { label: 'wrong-sigil', value: encodeURIComponent(wrongSigil) },
    { label: 'unknown', value: encodeURIComponent(unknown) },
  ];
  // A server name nobody serves is remote by definition: the server may answer 502 after trying it.
  if (name === 'serverName') out[out.length - 1].remote = true;
  if (sigil) out.push({ label: 'unreachable-server', value: encodeURIComponent(`${sigil}x:unreachable.test`), remote: true });
  if (name === 'serverName') out.push({ label: 'unreachable-server', value: 'unreachable.test', remote: true });
  return out;
}

let txnCounter = 0;

function fillPath(path: string, values: ParamValues, override?: { name: string; value: string }): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (override && override.name === name) return override.value;
    // A fresh transaction ID per request: a repeated one would only replay the first answer.
    if (name === 'txnId' && values[name] !== undefined) return `${values[name]}-${++txnCounter}`;
    const v = values[name];
    if (v === undefined) throw new Error(`no fuzz value for path parameter {${name}} (${path})`);
    return encodeURIComponent(v);
  });
}

/** zod v4 internals: the wrapped schema of optional/default/nullable/pipe wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } };
  for (let i = 0; i < 10; i++) {
    const next = s.def.innerType ?? (s.def.type === 'pipe' ? s.def.in : undefined);
    if (!next) break;
    s = next as unknown as typeof s;
  }
  return s as unknown as z.ZodType;
}

/** Top-level keys of an object schema, with the base type each expects. */
function objectKeys(schema: z.ZodType | undefined): { key: string; type: string }[] {
  if (!schema) return [];
  const s = unwrap(schema) as unknown as { def: { type: string; shape?: Record<string, z.ZodType> } };
  if (s.def.type !== 'object' || !s.def.shape) return [];
  return Object.entries(s.def.shape).map(([key, v]) => ({ key, type: (unwrap(v) as unknown as { def: { type: string } }).def.type }));
}

/** A value of a different JSON type than `type` expects. */
function wrongTypeFor(type: string): unknown {
  if (type === 'string' || type === 'enum' || type === 'literal') return 12345;
  if (type === 'number' || type === 'int' || type === 'bigint') return 'not-a-number';
  if (type === 'boolean') return 'yes';
  if (type === 'array' || type === 'tuple') return { not: 'an array' };
  return 'not-an-object';
}

function deepNesting(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** Array items and object members of every JSON type, shaped like the events and keys handlers look for. */
const JUNK_ITEMS = [null, 1, -1.5, 'str', true, [], {}, { type: 5, room_id: [], content: 'x', event_id: {}, sender: 1, state_key: null }];
const JUNK_MEMBERS = { '': null, a: [1], type: 5, content: 'x', '@u:hs1.test': { '': 7 }, '!r:hs1.test': [], 'm.room.message': 'x' };

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** Every case for a route: path-parameter, body, query and auth abuse. */
export function casesFor(route: Route, values: ParamValues): FuzzCase[] {
  const { method, path } = route;
  const base = fillPath(path, values);
  const cases: FuzzCase[] = [];
  const emptyBody = method === 'GET' || method === 'DELETE' ? undefined : json({});

  for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
    for (const bad of badParamValues(name, values[name] ?? '')) {
      cases.push({
        label: `path {${name}}=${bad.label}`,
        method,
        url: fillPath(path, values, { name, value: bad.value }),
        body: emptyBody,
        contentType: emptyBody ? 'application/json' : undefined,
        remote: bad.remote,
        // The pipeline refuses an undecodable escape before auth or the handler sees it.
        expect: bad.label === 'bad-percent' || bad.label === 'invalid-utf8' ? { status: 400, errcode: 'M_INVALID_PARAM' } : undefined,
      });
    }
  }

  const takesBody = route.readsBody || route.rawBody !== undefined || method === 'POST' || method === 'PUT';
  if (takesBody) {
    const bodies: [string, Buffer, string][] = [
      ['not-json', Buffer.from('this is { not json'), 'application/json'],
      ['array', json([1, 2]), 'application/json'],
      ['string', json('str'), 'application/json'],
      ['number', json(42), 'application/json'],
      ['null', json(null), 'application/json'],
      ['deep-10k', Buffer.from(deepNesting(10_000)), 'application/json'],
      ['deep-array-10k', Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`), 'application/json'],
      ['invalid-utf8', Buffer.concat([Buffer.from('{"k":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), 'application/json'],
      ['lone-surrogate', Buffer.from('{"k":"\\ud800"}'), 'application/json'],
      ['huge-string', json({ k: 'x'.repeat(200_000) }), 'application/json'],
      // The test servers keep the default max_request_body_bytes (1 MiB) unless the route sets its own.
      ['over-limit', Buffer.alloc((route.maxBodyBytes ?? 1024 * 1024) + 1024, 0x20), 'application/json'],
      ['wrong-content-type', Buffer.from('key=value&a=b'), 'application/x-www-form-urlencoded'],
      ['no-content-type', Buffer.from('{"k":'), ''],
      ['proto-keys', Buffer.from('{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}}}'), 'application/json'],
    ];
    // A JSON-body route reads and checks the body before its handler runs: these answers are fixed.
    const expected: Record<string, { status: number; errcode: string }> = route.readsBody
      ? {
          'not-json': { status: 400, errcode: 'M_NOT_JSON' },
          'invalid-utf8': { status: 400, errcode: 'M_NOT_JSON' },
          array: { status: 400, errcode: 'M_BAD_JSON' },
          string: { status: 400, errcode: 'M_BAD_JSON' },
          number: { status: 400, errcode: 'M_BAD_JSON' },
          null: { status: 400, errcode: 'M_BAD_JSON' },
          'deep-10k': { status: 400, errcode: 'M_BAD_JSON' },
          'deep-array-10k': { status: 400, errcode: 'M_BAD_JSON' },
          'lone-surrogate': { status: 400, errcode: 'M_BAD_JSON' },
          'over-limit': { status: 413, errcode: 'M_TOO_LARGE' },
        }
      : {};
    for (const [label, body, contentType] of bodies) {
      cases.push({ label: `body ${label}`, method, url: base, body, contentType, expect: expected[label] });
    }
    for (const { key, type } of objectKeys(route.schemas?.body)) {
      const member = (label: string, value: Buffer) =>
        cases.push({ label: `body .${key} ${label}`, method, url: base, body: value, contentType: 'application/json' });
      member('wrong type', json({ [key]: wrongTypeFor(type) }));
      member('null', json({ [key]: null }));
      member('huge', json({ [key]: 'h'.repeat(100_000) }));
      member('nested', Buffer.from(`{"${key}":${deepNesting(5000)}}`));
      member('junk items', json({ [key]: JUNK_ITEMS }));
      member('junk members', json({ [key]: JUNK_MEMBERS }));
    }
  }

  const queryKeys = objectKeys(route.schemas?.query).map((k) => k.key);
  for (const key of new Set([...queryKeys, 'limit', 'from'])) {
    // `server` names a server to ask (public rooms, joins via): any value is a remote name.
    const remote = key === 'server' || key === 'server_name' || key === 'via';
    for (const [label, q] of [
      ['non-numeric', `${key}=abc`],
      ['negative', `${key}=-1`],
      ['huge', `${key}=99999999999999999999999`],
      ['repeated', `${key}=1&${key}=2`],
      ['empty', `${key}=`],
      ['bad-percent', `${key}=%`],
      ['invalid-utf8', `${key}=%FF%FE`],
      ['nul', `${key}=a%00b`],
      // Query values some endpoints parse as JSON (sync's inline filter).
      ['json-junk', `${key}=${encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 'x' }, rooms: 5 }, presence: [] }))}`],
      // Arrays: `[` encodes to 3 bytes, so 1500 levels still fit Node's 16 KiB header limit.
      ['json-deep', `${key}=${encodeURIComponent(`${'['.repeat(1500)}${']'.repeat(1500)}`)}`],
      ['json-surrogate', `${key}=${encodeURIComponent('{"event_fields":["\\ud800"]}')}`],
    ] as const) {
      cases.push({ label: `query ${key} ${label}`, method, url: `${base}?${q}`, body: emptyBody, contentType: emptyBody ? 'application/json' : undefined, remote });
    }
  }

  for (const [label, authorization] of [
    ['no-auth', ''],
    ['unknown-token', 'Bearer not-a-real-token'],
    ['malformed-auth', 'Bearer'],
    ['basic-auth', 'Basic dXNlcjpwYXNz'],
    ['x-matrix-garbage', 'X-Matrix origin=,key="",sig=""'],
    ['x-matrix-unknown', 'X-Matrix origin="unreachable.test",destination="hs1.test",key="ed25519:a",sig="AAAA"'],
  ] as const) {
    cases.push({
      label: `auth ${label}`,
      method,
      url: base,
      body: emptyBody,
      contentType: emptyBody ? 'application/json' : undefined,
      authorization,
      remote: label === 'x-matrix-unknown',
    });
  }
  return cases;
}

/** Sends one request over plain HTTP without touching the path; rejects after `timeoutMs`. */
export function sendRaw(
  port: number,
  c: { method: string; url: string; body?: Buffer; contentType?: string; authorization?: string },
  timeoutMs = 15_000,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (c.contentType) headers['content-type'] = c.contentType;
    if (c.authorization) headers.authorization = c.authorization;
    if (c.body) headers['content-length'] = c.body.length;
    const req = request({ host: '127.0.0.1', port, method: c.method, path: c.url, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type'] ?? '') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      // The server may close after answering 413 while the body is still being written.
      reject(err);
    });
    req.end(c.body);
  });
}
