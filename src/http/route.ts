/**
 * Declarative route definitions. A route states its method, path (spec syntax: `{param}`), auth mode,
 * rate-limit action and body/query schemas; the pipeline in app.ts does, always in this order:
 *   rate limit (unauthenticated routes, by IP) → auth → rate limit (authenticated routes, by user)
 *   → read + parse JSON → validate → handler.
 * Handlers receive typed, validated input and return `{status?, body}` or throw an HttpError.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { AppContext } from '../app-context.js';
import type { Config, RateLimitAction } from '../config/config.js';
import type { JsonObject } from '../core/json.js';
import type { JsonText } from '../core/json-text.js';
import type { Logger } from '../logger.js';
import type { WaitSignal } from '../notifier.js';
import { parseOrThrow } from './validation.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type AuthMode = 'required' | 'optional' | 'none';

/** The authenticated user behind a request. */
export interface Requester {
  userId: string;
  deviceId: string;
  isGuest: boolean;
  tokenId: number;
}

type ParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never;
export type PathParams<P extends string> = { [K in ParamNames<P>]: string };

type RequesterFor<A extends AuthMode> = A extends 'required' ? Requester : Requester | undefined;
type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteRequest<P extends string, B, Q, A extends AuthMode> {
  readonly app: AppContext;
  readonly params: PathParams<P>;
  readonly body: Infer<B>;
  readonly query: Infer<Q>;
  readonly requester: RequesterFor<A>;
  /** The request path as sent (percent-encoded, no query string). */
  readonly path: string;
  readonly method: HttpMethod;
  readonly ip: string;
  readonly headers: IncomingHttpHeaders;
  readonly reqId: string;
  /** Logger bound to this request's id. */
  readonly log: Logger;
  /** The streamed request body, for routes declaring `rawBody` (undefined otherwise). */
  readonly raw: RawBody | undefined;
  /** Aborted when the client goes away before the response is sent (long polls stop waiting). */
  readonly signal: WaitSignal;
}

/**
 * A request body read as bytes, not parsed. `chunks` may be iterated once; it throws 413 M_TOO_LARGE
 * as soon as the limit is passed, and 400 if the client stops before sending the Content-Length it
 * announced.
 */
export interface RawBody {
  readonly chunks: AsyncIterable<Buffer>;
  /** The Content-Type header, if any. */
  readonly contentType: string | undefined;
  /** The announced Content-Length, if any. */
  readonly declaredLength: number | undefined;
}

/** Response bytes with their type: a stream (e.g. a file, sent as it is read) or a buffer. */
export interface BinaryContent {
  data: Readable | Buffer;
  contentType: string;
  /** Sent as Content-Length when known. */
  length?: number;
}

export type RouteResponse =
  | { status?: number; body: JsonObject; headers?: Record<string, string> }
  /** A JSON body the handler serialized itself (e.g. a sync response assembled from shared, already serialized parts). */
  | { status?: number; json: JsonText; headers?: Record<string, string> }
  | { status?: number; binary: BinaryContent; headers?: Record<string, string> };

export interface RouteDefinition<
  P extends string,
  B extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  A extends AuthMode,
> {
  method: HttpMethod;
  path: P;
  auth: A;
  rateLimit?: RateLimitAction;
  /** Schema of the JSON body. Without it the body is not read. */
  body?: B;
  /** Schema of the query-string object (values are strings, or arrays when repeated). */
  query?: Q;
  /**
   * Read the body as a raw byte stream (handed to the handler as `req.raw`) with its own size limit
   * instead of as JSON under `max_request_body_bytes`. Exclusive with `body`.
   */
  rawBody?: { maxBytes: (config: Config) => number };
  handler: (req: RouteRequest<P, B, Q, A>) => Promise<RouteResponse>;
}

/** What the pipeline hands a route after auth: raw, unvalidated input. */
export interface RouteInput {
  app: AppContext;
  params: Record<string, string>;
  rawBody: unknown;
  rawQuery: unknown;
  requester: Requester | undefined;
  path: string;
  /** Path and query string exactly as sent (what federation request signatures cover). */
  url: string;
  method: HttpMethod;
  ip: string;
  headers: IncomingHttpHeaders;
  reqId: string;
  log: Logger;
  raw: RawBody | undefined;
  signal: WaitSignal;
}

/** A route with its types erased, as the app registers it. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly auth: AuthMode;
  readonly rateLimit: RateLimitAction | undefined;
  readonly readsBody: boolean;
  readonly rawBody: { maxBytes: (config: Config) => number } | undefined;
  /** Overrides `max_request_body_bytes` (federation transactions are larger than client requests). */
  readonly maxBodyBytes?: number;
  /** The body and query schemas, for tools that probe every route (spec-tests/malformed-input). */
  readonly schemas?: { readonly body?: z.ZodType; readonly query?: z.ZodType };
  handle(input: RouteInput): Promise<RouteResponse>;
}

export function defineRoute<
  const P extends string,
  A extends AuthMode,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
>(def: RouteDefinition<P, B, Q, A>): Route {
  return {
    method: def.method,
    path: def.path,
    auth: def.auth,
    rateLimit: def.rateLimit,
    readsBody: def.body !== undefined,
    rawBody: def.rawBody,
    schemas: { body: def.body, query: def.query },
    handle(input) {
      const body = def.body ? parseOrThrow(def.body, input.rawBody, 'body') : undefined;
      const query = def.query ? parseOrThrow(def.query, input.rawQuery, 'query') : undefined;
      return def.handler(new ValidatedRequest(input, body, query) as unknown as RouteRequest<P, B, Q, A>);
    },
  };
}

/**
 * The handler's view of a request: the pipeline's input with the parsed body and query. Its
 * getters live on the prototype and read through, so the logger and signal the pipeline makes on
 * first use are still made only for handlers that use them.
 */
class ValidatedRequest {
  constructor(
    private readonly input: RouteInput,
    readonly body: unknown,
    readonly query: unknown,
  ) {}
  get app() {
    return this.input.app;
  }
  get params() {
    return this.input.params;
  }
  get requester() {
    return this.input.requester;
  }
  get path() {
    return this.input.path;
  }
  get method() {
    return this.input.method;
  }
  get ip() {
    return this.input.ip;
  }
  get headers() {
    return this.input.headers;
  }
  get reqId() {
    return this.input.reqId;
  }
  get log() {
    return this.input.log;
  }
  get raw() {
    return this.input.raw;
  }
  get signal() {
    return this.input.signal;
  }
}
