/**
 * The HTTP application: CORS, request ids, the access log, error mapping, routing with Matrix-style
 * 404/405, and the per-route pipeline (see route.ts).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { Duplex } from 'node:stream';
import { Router } from '@koa/router';
import Koa from 'koa';
import type { AppContext } from '../app-context.js';
import type { JsonObject } from '../core/json.js';
import { JsonText } from '../core/json-text.js';
import type { Logger } from '../logger.js';
import { authenticate } from './auth.js';
import { rawBodyStream, readJsonObjectBody } from './body.js';
import { RouteIndex } from './dispatch.js';
import { HttpError, invalidParam, limitExceeded, unknownError, unrecognized } from './errors.js';
import type { Requester, Route } from './route.js';

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization',
};

/** The JSON answer of a route or an error, written by the outermost middleware in one go. */
interface JsonReply {
  status: number;
  /** The body, or its JSON text when the route serialized it already. */
  body: JsonObject | JsonText;
  headers?: Record<string, string>;
}

/** Per-request state the pipeline keeps on the Koa context. */
export interface RequestState {
  reqId: string;
  userId?: string;
  reply?: JsonReply;
}
type State = RequestState;

export interface HttpApp {
  koa: Koa<State>;
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

export function createHttpApp(app: AppContext, routes: readonly Route[]): HttpApp {
  const koa = new Koa<State>();
  koa.silent = true;
  const http: HttpApp = { koa, draining: false };
  const router = new Router<State>();

  koa.use(async (ctx, next) => {
    const start = performance.now();
    const reqId = `${reqIdPrefix}-${(++reqCounter).toString(36)}`;
    ctx.state.reqId = reqId;
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.state.reply = { status: err.status, body: err.body, headers: err.headers };
      } else {
        app.logger.error({ reqId, err }, 'unhandled error');
        const e = unknownError();
        ctx.state.reply = { status: e.status, body: e.body };
      }
    } finally {
      const reply = ctx.state.reply;
      if (reply) {
        ctx.respond = false;
        try {
          sendJson(ctx.res, ctx.method, reqId, reply, http.draining);
        } catch (err) {
          // A header Node refuses: nothing valid can be sent on this response any more.
          app.logger.error({ reqId, err }, 'could not write the response');
          ctx.res.destroy();
        }
      } else {
        // Bodies Koa writes itself (streams, buffers, the CORS pre-flight).
        ctx.set(CORS_HEADERS);
        ctx.set('X-Request-Id', reqId);
        // Checked at the end: a request that was in flight when shutdown began must not keep its connection.
        if (http.draining) ctx.set('Connection', 'close');
      }
      // Only the path: query strings may carry access tokens.
      app.logger.info(
        {
          reqId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.res.statusCode,
          ms: Math.round((performance.now() - start) * 10) / 10,
          user: ctx.state.userId,
        },
        'request',
      );
    }
  });

  // CORS pre-flight: answered for every path without running any endpoint logic (spec requirement).
  koa.use(async (ctx, next) => {
    if (ctx.method !== 'OPTIONS') return next();
    ctx.status = 204;
  });

  // The router holds the routes (and answers 404 vs 405 below); requests are dispatched through an
  // index over its layers (dispatch.ts) rather than its own per-request scan.
  const index = new RouteIndex<Route>();
  for (const route of routes) {
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
    const before = router.stack.length;
    router[method](routerPath(route.path), async () => {});
    for (const layer of router.stack.slice(before)) index.add(layer, route);
  }
  koa.use(async (ctx, next) => {
    const match = index.match(ctx.method, ctx.path);
    if (!match) return next();
    await runPipeline(app, match.value, ctx, match.params);
  });

  koa.use(async (ctx) => {
    if (ctx.state.reply !== undefined || ctx.body !== undefined) return;
    const match = router.match(ctx.path, ctx.method);
    if (match.path.length > 0) {
      const allowed = new Set(match.path.flatMap((layer) => layer.methods));
      ctx.set('Allow', [...allowed, 'OPTIONS'].join(', '));
      throw unrecognized(405, `Method ${ctx.method} is not allowed on this endpoint`);
    }
    throw unrecognized(404, 'Unrecognized request');
  });

  return http;
}

async function runPipeline(
  app: AppContext,
  route: Route,
  ctx: Koa.ParameterizedContext<State>,
  params: Record<string, string>,
): Promise<void> {
  // The router hands an undecodable `%` escape (`%FF`, a lone `%`) to the handler verbatim, where it
  // would be taken for a literal event type, state key or account-data type.
  const path = ctx.path;
  try {
    decodeURIComponent(path);
  } catch {
    throw invalidParam('Malformed percent-encoding in the request path');
  }
  const ip = ctx.ip;
  if (route.rateLimit && route.auth === 'none') checkRate(app, route, ip);
  const query = parseQuery(ctx.querystring);
  const headers = ctx.req.headers;
  const requester: Requester | undefined = await authenticate(
    app,
    { get: (name) => (headers[name.toLowerCase()] as string | undefined) ?? '', query, ip },
    route.auth,
  );
  if (requester) ctx.state.userId = requester.userId;
  if (route.rateLimit && route.auth !== 'none') checkRate(app, route, requester?.userId ?? ip);

  const rawBody = route.readsBody
    ? await readJsonObjectBody(ctx, route.maxBodyBytes ?? app.config.max_request_body_bytes, app.config.body_idle_timeout_ms)
    : undefined;
  const raw = route.rawBody ? rawBodyStream(ctx, route.rawBody.maxBytes(app.config), app.config.body_idle_timeout_ms) : undefined;
  let log: Logger | undefined;
  let gone: AbortController | undefined;
  const res = await route.handle({
    app,
    params,
    rawBody,
    rawQuery: query,
    requester,
    path,
    url: ctx.originalUrl,
    method: route.method,
    ip,
    headers,
    reqId: ctx.state.reqId,
    // Made on first use: most requests never log, and a child logger per request is not free.
    get log() {
      log ??= app.logger.child({ reqId: ctx.state.reqId });
      return log;
    },
    raw,
    // Made on first use too (only long polls wait on it). The response closing before it finished
    // means the client went away; one that already closed is aborted at once.
    get signal() {
      if (gone === undefined) {
        const controller = new AbortController();
        gone = controller;
        const httpRes = ctx.res;
        if ((httpRes.destroyed || httpRes.closed) && !httpRes.writableFinished) controller.abort();
        else
          httpRes.once('close', () => {
            if (!httpRes.writableFinished) controller.abort();
          });
      }
      return gone.signal;
    },
  });
  if ('binary' in res) {
    ctx.status = res.status ?? 200;
    // Koa pipes a stream to the socket and destroys it if the client goes away.
    ctx.body = res.binary.data;
    // Set verbatim: ctx.type would rewrite the stored type (e.g. add a charset).
    ctx.set('Content-Type', res.binary.contentType);
    if (res.binary.length !== undefined) ctx.length = res.binary.length;
    if (res.headers) ctx.set(res.headers);
  } else {
    ctx.state.reply = { status: res.status ?? 200, body: 'json' in res ? res.json : res.body, headers: res.headers };
  }
}

const NO_QUERY: Record<string, string | string[]> = Object.freeze(Object.create(null));

/**
 * The query string as an object: a repeated key gives an array, `+` is a space, a malformed escape
 * stays as sent (as URLSearchParams does). No prototype, so `__proto__` is an ordinary key.
 */
function parseQuery(querystring: string): Record<string, string | string[]> {
  return querystring === '' ? NO_QUERY : (parseQueryString(querystring, '&', '=', { maxKeys: 0 }) as Record<string, string | string[]>);
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Writes a JSON response with every header in one `writeHead` and the body in the same write
 * (Node sends header and body as one chunk when both are strings and the length is known).
 */
function sendJson(res: ServerResponse, method: string, reqId: string, reply: JsonReply, draining: boolean): void {
  if (res.headersSent) {
    // Only a stream that failed after its headers went out can get here: nothing more can be said.
    res.statusCode = reply.status;
    if (!res.writableEnded) res.destroy();
    return;
  }
  const text = reply.body instanceof JsonText ? reply.body.text : JSON.stringify(reply.body);
  const headers: OutgoingHttpHeaders = {
    ...CORS_HEADERS,
    'X-Request-Id': reqId,
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(text),
    ...reply.headers,
  };
  // Checked at the end: a request that was in flight when shutdown began must not keep its connection.
  if (draining) headers.Connection = 'close';
  res.writeHead(reply.status, headers);
  // Node drops the body of a HEAD response itself; the headers still give its length.
  res.end(method === 'HEAD' ? undefined : text);
}

function checkRate(app: AppContext, route: Route, requester: string): void {
  const wait = app.rateLimiter.take(route.rateLimit!, requester);
  if (wait > 0) throw limitExceeded(wait);
}
