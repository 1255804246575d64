/**
 * The HTTP application: CORS, request ids, the access log, error mapping, routing with Matrix-style
 * 404/405, and the per-route pipeline (see route.ts).
 *
 * Requests go from Node's request event straight into the pipeline; no framework sits between. Koa
 * did until a long-poll cycle was measured: its context, request and response objects and the
 * finish listeners it attaches cost about a fifth of each cycle's JavaScript time, and every one of
 * them outlived the parked poll into the old generation. Routing keeps @koa/router's matching rules
 * (dispatch.ts).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { pipeline, type Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { Router } from '@koa/router';
import type { AppContext } from '../app-context.js';
import type { JsonObject } from '../core/json.js';
import { JsonText } from '../core/json-text.js';
import { accessLog, type Logger } from '../logger.js';
import { WaitAborter, type WaitSignal } from '../notifier.js';
import { authenticate } from './auth.js';
import { type BodyRequest, rawBodyStream, readJsonObjectBody } from './body.js';
import { RouteIndex } from './dispatch.js';
import { HttpError, invalidParam, limitExceeded, unknownError, unrecognized } from './errors.js';
import type { BinaryContent, HttpMethod, RawBody, Requester, Route, RouteInput } from './route.js';

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization',
};

/** What a request is answered with: JSON (a route's body or an error), bytes, or nothing (pre-flight). */
type Reply =
  | { kind: 'json'; status: number; body: JsonObject | JsonText; headers?: Record<string, string> }
  | { kind: 'binary'; status: number; binary: BinaryContent; headers?: Record<string, string> }
  | { kind: 'empty'; status: number };

export interface HttpApp {
  /** The request listener for a Node HTTP(S) server. */
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Set during shutdown: responses then ask clients to close their connection. */
  draining: boolean;
  /** Handles HTTP upgrade requests (WebSocket sync); without it they are refused. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** `{name}` (spec syntax) → `:name` (path-to-regexp syntax). */
export function routerPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

const reqIdPrefix = randomBytes(3).toString('hex');
let reqCounter = 0;

/** One request and its response, with what the body readers need (headers in, headers out). */
class Exchange implements BodyRequest {
  readonly reqId = `${reqIdPrefix}-${(++reqCounter).toString(36)}`;
  userId: string | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}

  get(header: string): string {
    const value = this.req.headers[header.toLowerCase()];
    return typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : '';
  }

  set(header: string, value: string): void {
    this.res.setHeader(header, value);
  }
}

export function createHttpApp(app: AppContext, routes: readonly Route[]): HttpApp {
  // The router holds the routes (and answers 404 vs 405); requests are dispatched through an index
  // over its layers (dispatch.ts) rather than its own per-request scan.
  const router = new Router();
  const index = new RouteIndex<Route>();
  for (const route of routes) {
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
    const before = router.stack.length;
    router[method](routerPath(route.path), async () => {});
    for (const layer of router.stack.slice(before)) index.add(layer, route);
  }

  async function answer(ex: Exchange, path: string, querystring: string): Promise<Reply> {
    // CORS pre-flight: answered for every path without running any endpoint logic (spec requirement).
    if (ex.req.method === 'OPTIONS') return { kind: 'empty', status: 204 };
    const match = index.match(ex.req.method ?? 'GET', path);
    if (match) return runPipeline(app, match.value, ex, path, querystring, match.params);
    const layers = router.match(path, ex.req.method ?? 'GET').path;
    if (layers.length > 0) {
      const allowed = new Set(layers.flatMap((layer) => layer.methods));
      ex.set('Allow', [...allowed, 'OPTIONS'].join(', '));
      throw unrecognized(405, `Method ${ex.req.method} is not allowed on this endpoint`);
    }
    throw unrecognized(404, 'Unrecognized request');
  }

  const logRequest = accessLog(app.logger);

  async function serve(ex: Exchange): Promise<void> {
    const start = performance.now();
    const { path, querystring } = splitUrl(ex.req.url ?? '/');
    let reply: Reply;
    try {
      reply = await answer(ex, path, querystring);
    } catch (err) {
      reply = errorReply(app, ex.reqId, err);
    }
    try {
      send(ex, reply, http.draining, app.logger);
    } catch (err) {
      // A header Node refuses: nothing valid can be sent on this response any more.
      app.logger.error({ reqId: ex.reqId, err }, 'could not write the response');
      ex.res.destroy();
    }
    // Only the path: query strings may carry access tokens.
    logRequest({
      reqId: ex.reqId,
      method: ex.req.method,
      path,
      status: ex.res.statusCode,
      ms: Math.round((performance.now() - start) * 10) / 10,
      user: ex.userId,
    });
  }

  const http: HttpApp = {
    draining: false,
    handle: (req, res) => {
      // serve() answers every error itself; this only keeps a failure past that (the log line,
      // say) from becoming an unhandled rejection that ends the process.
      serve(new Exchange(req, res)).catch((err: unknown) => {
        app.logger.error({ err }, 'request handling failed');
        res.destroy();
      });
    },
  };
  return http;
}

/** Path and query string of a request target: origin form (`/path?q`) as clients send it, or absolute form. */
function splitUrl(url: string): { path: string; querystring: string } {
  if (!url.startsWith('/')) {
    try {
      const parsed = new URL(url);
      return { path: parsed.pathname, querystring: parsed.search.slice(1) };
    } catch {
      return { path: url, querystring: '' };
    }
  }
  const hash = url.indexOf('#');
  const target = hash === -1 ? url : url.slice(0, hash);
  const q = target.indexOf('?');
  return q === -1 ? { path: target, querystring: '' } : { path: target.slice(0, q), querystring: target.slice(q + 1) };
}

function errorReply(app: AppContext, reqId: string, err: unknown): Reply {
  if (err instanceof HttpError) return { kind: 'json', status: err.status, body: err.body, headers: err.headers };
  app.logger.error({ reqId, err }, 'unhandled error');
  const e = unknownError();
  return { kind: 'json', status: e.status, body: e.body };
}

async function runPipeline(
  app: AppContext,
  route: Route,
  ex: Exchange,
  path: string,
  querystring: string,
  params: Record<string, string>,
): Promise<Reply> {
  // The router hands an undecodable `%` escape (`%FF`, a lone `%`) to the handler verbatim, where it
  // would be taken for a literal event type, state key or account-data type.
  try {
    decodeURIComponent(path);
  } catch {
    throw invalidParam('Malformed percent-encoding in the request path');
  }
  const ip = ex.req.socket.remoteAddress ?? '';
  if (route.rateLimit && route.auth === 'none') checkRate(app, route, ip);
  const query = parseQuery(querystring);
  const requester: Requester | undefined = await authenticate(app, { get: (name) => ex.get(name), query, ip }, route.auth);
  if (requester) ex.userId = requester.userId;
  if (route.rateLimit && route.auth !== 'none') checkRate(app, route, requester?.userId ?? ip);

  const rawBody = route.readsBody
    ? await readJsonObjectBody(ex, route.maxBodyBytes ?? app.config.max_request_body_bytes, app.config.body_idle_timeout_ms)
    : undefined;
  const raw = route.rawBody ? rawBodyStream(ex, route.rawBody.maxBytes(app.config), app.config.body_idle_timeout_ms) : undefined;
  const res = await route.handle(new PipelineInput(app, ex, params, rawBody, query, requester, path, ip, route.method, raw));
  const status = res.status ?? 200;
  if ('binary' in res) return { kind: 'binary', status, binary: res.binary, headers: res.headers };
  return { kind: 'json', status, body: 'json' in res ? res.json : res.body, headers: res.headers };
}

/**
 * What the pipeline hands a route. A class, not an object literal: a literal's getters are new
 * closures for every request, and a parked long poll keeps them all alive through several
 * young-generation collections.
 */
class PipelineInput implements RouteInput {
  private logger: Logger | undefined;
  private gone: ResponseGone | undefined;

  constructor(
    readonly app: AppContext,
    private readonly ex: Exchange,
    readonly params: Record<string, string>,
    readonly rawBody: unknown,
    readonly rawQuery: unknown,
    readonly requester: Requester | undefined,
    readonly path: string,
    readonly ip: string,
    readonly method: HttpMethod,
    readonly raw: RawBody | undefined,
  ) {}

  get url(): string {
    return this.ex.req.url ?? this.path;
  }

  get headers(): IncomingHttpHeaders {
    return this.ex.req.headers;
  }

  get reqId(): string {
    return this.ex.reqId;
  }

  /** Made on first use: most requests never log, and a child logger per request is not free. */
  get log(): Logger {
    this.logger ??= this.app.logger.child({ reqId: this.ex.reqId });
    return this.logger;
  }

  /** Made on first use too: only long polls wait on it. */
  get signal(): WaitSignal {
    this.gone ??= new ResponseGone(this.ex.res);
    return this.gone;
  }
}

/**
 * Aborted when the response closes before it was sent: the client went away (one that already closed
 * is aborted at once).
 */
class ResponseGone extends WaitAborter {
  constructor(res: ServerResponse) {
    super();
    if ((res.destroyed || res.closed) && !res.writableFinished) this.abort();
    else
      res.once('close', () => {
        if (!res.writableFinished) this.abort();
      });
  }
}

const NO_QUERY: Record<string, string | string[]> = Object.freeze(Object.create(null));

/** Recently parsed query strings (see parseQuery). */
const parsedQueries = new Map<string, Record<string, string | string[]>>();
const MAX_PARSED_QUERIES = 64;

/**
 * The query string as an object: a repeated key gives an array, `+` is a space, a malformed escape
 * stays as sent (as URLSearchParams does). No prototype, so `__proto__` is an ordinary key.
 * Remembered and frozen: every long poll woken by one event comes back with the same query string
 * (same filter, same `since`), and decoding its inline filter each time showed in profiles.
 */
function parseQuery(querystring: string): Record<string, string | string[]> {
  if (querystring === '') return NO_QUERY;
  let query = parsedQueries.get(querystring);
  if (query === undefined) {
    query = parseQueryString(querystring, '&', '=', { maxKeys: 0 }) as Record<string, string | string[]>;
    for (const value of Object.values(query)) if (Array.isArray(value)) Object.freeze(value);
    Object.freeze(query);
    if (parsedQueries.size >= MAX_PARSED_QUERIES) parsedQueries.delete(parsedQueries.keys().next().value as string);
    parsedQueries.set(querystring, query);
  }
  return query;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Statuses whose responses never carry a body. */
const NO_BODY = new Set([204, 205, 304]);

/**
 * Writes the reply. JSON goes out with every header in one `writeHead` and the body in the same
 * write (Node sends header and body as one chunk when both are strings and the length is known);
 * a stream is piped, and destroyed if the client goes away first.
 */
function send(ex: Exchange, reply: Reply, draining: boolean, logger: Logger): void {
  const { res } = ex;
  if (res.headersSent) {
    // Only a stream that failed after its headers went out can get here: nothing more can be said.
    if (!res.writableEnded) res.destroy();
    return;
  }
  const head = ex.req.method === 'HEAD';
  // One object, filled in place: this runs for every response.
  const headers: OutgoingHttpHeaders = { ...CORS_HEADERS, 'X-Request-Id': ex.reqId };
  if (reply.kind === 'empty') {
    // Checked at the end: a request that was in flight when shutdown began must not keep its connection.
    if (draining) headers.Connection = 'close';
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  if (reply.kind === 'json') {
    const text = reply.body instanceof JsonText ? reply.body.text : JSON.stringify(reply.body);
    headers['Content-Type'] = JSON_TYPE;
    headers['Content-Length'] = Buffer.byteLength(text);
    if (reply.headers) Object.assign(headers, reply.headers);
    if (draining) headers.Connection = 'close';
    res.writeHead(reply.status, headers);
    // Node drops the body of a HEAD response itself; the headers still give its length.
    res.end(head ? undefined : text);
    return;
  }
  const { data, contentType, length } = reply.binary;
  // Set verbatim: the type of stored media is sent back exactly as it was uploaded.
  headers['Content-Type'] = contentType;
  if (length !== undefined) headers['Content-Length'] = length;
  else if (Buffer.isBuffer(data)) headers['Content-Length'] = data.length;
  if (reply.headers) Object.assign(headers, reply.headers);
  if (draining) headers.Connection = 'close';
  res.writeHead(reply.status, headers);
  if (Buffer.isBuffer(data)) {
    res.end(head || NO_BODY.has(reply.status) ? undefined : data);
  } else if (head || NO_BODY.has(reply.status)) {
    (data as Readable).destroy();
    res.end();
  } else {
    // Either side failing (a read error, the client going away) destroys both.
    pipeline(data, res, (err) => {
      if (err && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') logger.warn({ reqId: ex.reqId, err }, 'response stream failed');
    });
  }
}

function checkRate(app: AppContext, route: Route, requester: string): void {
  const wait = app.rateLimiter.take(route.rateLimit!, requester);
  if (wait > 0) throw limitExceeded(wait);
}
