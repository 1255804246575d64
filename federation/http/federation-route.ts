/**
 * Federation endpoints authenticated by the X-Matrix request signature. A route states method, path,
 * body/query schemas and optionally the room whose server ACL applies; the handler receives the
 * verified `origin`. Order: read body → verify X-Matrix (destination is us, key of the origin,
 * signature over method, URI, origin, destination and content) → server ACL → validate → handler.
 * Endpoints without authentication (keys, version, well-known) use plain `defineRoute` with auth 'none'.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import type { AppContext } from '../../src/app-context.js';
import type { JsonValue } from '../../src/core/json.js';
import { MatrixError } from '../../src/http/errors.js';
import type { HttpMethod, PathParams, Route, RouteInput, RouteResponse } from '../../src/http/route.js';
import { parseOrThrow } from '../../src/http/validation.js';
import type { Logger } from '../../src/logger.js';
import { parseXMatrix, verifyRequestSignature } from '../auth/x-matrix.js';

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface FederationRequest<P extends string, B, Q> {
  readonly app: AppContext;
  /** The verified server the request came from. */
  readonly origin: string;
  readonly params: PathParams<P>;
  readonly body: Infer<B>;
  readonly query: Infer<Q>;
  readonly path: string;
  readonly method: HttpMethod;
  readonly ip: string;
  readonly headers: IncomingHttpHeaders;
  readonly reqId: string;
  readonly log: Logger;
}

export interface FederationRouteDefinition<P extends string, B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: HttpMethod;
  path: P;
  body?: B;
  query?: Q;
  maxBodyBytes?: number;
  /** The room whose `m.room.server_acl` must allow the origin (checked before the body is validated). */
  aclRoom?: (params: PathParams<P>, rawBody: unknown) => string | undefined;
  handler: (req: FederationRequest<P, B, Q>) => Promise<RouteResponse>;
}

export const unauthorized = (msg: string) => new MatrixError(401, 'M_UNAUTHORIZED', msg);

/**
 * Verifies the X-Matrix header of a request; returns the origin or throws 401 M_UNAUTHORIZED.
 * Clock-independent: a key the origin publishes is accepted whatever our clock says about its
 * `valid_until_ts`; only keys the origin itself retired (old_verify_keys) are refused.
 */
export async function authenticateServer(
  app: AppContext,
  input: Pick<RouteInput, 'headers' | 'method' | 'url' | 'log'>,
  content: JsonValue | undefined,
): Promise<string> {
  const header = input.headers.authorization;
  const parsed = parseXMatrix(header);
  if (!parsed.ok) throw unauthorized(parsed.reason);
  const { params } = parsed;
  if (params.destination !== undefined && params.destination !== app.serverName) {
    input.log.warn({ origin: params.origin, destination: params.destination }, 'X-Matrix request for another destination');
    throw unauthorized(`request is for ${params.destination}, this server is ${app.serverName}`);
  }
  const keys = await app.federation.keyRing.getVerifyKeys(params.origin, [params.key]);
  const key = keys.find((k) => k.keyId === params.key && k.expiredTs === undefined);
  if (!key) {
    input.log.warn({ origin: params.origin, key: params.key }, 'X-Matrix request signed with an unknown key');
    throw unauthorized(`unknown key ${params.key} for ${params.origin}`);
  }
  const request = { method: input.method, uri: input.url, destination: params.destination ?? app.serverName, content };
  if (!verifyRequestSignature(params, request, key)) {
    input.log.warn({ origin: params.origin, key: params.key }, 'X-Matrix signature does not verify');
    throw unauthorized('invalid X-Matrix signature');
  }
  app.federation.sender.markAlive(params.origin);
  return params.origin;
}

export function defineFederationRoute<
  const P extends string,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
>(def: FederationRouteDefinition<P, B, Q>): Route {
  return {
    method: def.method,
    path: def.path,
    auth: 'none',
    rateLimit: undefined,
    readsBody: def.body !== undefined,
    rawBody: undefined,
    maxBodyBytes: def.maxBodyBytes,
    schemas: { body: def.body, query: def.query },
    async handle(input) {
      const origin = await authenticateServer(input.app, input, input.rawBody as JsonValue | undefined);
      const params = input.params as PathParams<P>;
      const roomId = def.aclRoom?.(params, input.rawBody);
      if (roomId !== undefined && !(await input.app.federation.acl.allows(origin, roomId))) {
        throw new MatrixError(403, 'M_FORBIDDEN', `server ${origin} is denied by the room's server ACL`);
      }
      const body = def.body ? parseOrThrow(def.body, input.rawBody, 'body') : undefined;
      const query = def.query ? parseOrThrow(def.query, input.rawQuery, 'query') : undefined;
      return def.handler({
        app: input.app,
        origin,
        params,
        body: body as Infer<B>,
        query: query as Infer<Q>,
        path: input.path,
        method: input.method,
        ip: input.ip,
        headers: input.headers,
        reqId: input.reqId,
        log: input.log.child({ origin }),
      });
    },
  };
}
