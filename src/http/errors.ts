/**
 * Errors that become HTTP responses. Handlers throw these; the pipeline in app.ts turns them into the
 * JSON body and status, so no handler ever writes an error response by hand.
 */
import type { JsonObject } from '../core/json.js';

/** Any response-carrying error. The body is sent as-is (used directly by UIA's 401 challenge). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: JsonObject,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.error === 'string' ? body.error : `HTTP ${status}`);
  }
}

/** The spec's standard error response: `{errcode, error, ...extra}`. */
export class MatrixError extends HttpError {
  constructor(
    status: number,
    readonly errcode: string,
    error: string,
    extra: JsonObject = {},
    headers: Record<string, string> = {},
  ) {
    super(status, { ...extra, errcode, error }, headers);
  }
}

export const forbidden = (msg = 'Forbidden', extra?: JsonObject) => new MatrixError(403, 'M_FORBIDDEN', msg, extra);
export const notFound = (msg = 'Not found') => new MatrixError(404, 'M_NOT_FOUND', msg);
export const unrecognized = (status: 404 | 405, msg = 'Unrecognized request') =>
  new MatrixError(status, 'M_UNRECOGNIZED', msg);
export const notJson = (msg = 'Content not JSON.') => new MatrixError(400, 'M_NOT_JSON', msg);
export const badJson = (msg: string) => new MatrixError(400, 'M_BAD_JSON', msg);
export const missingParam = (msg: string) => new MatrixError(400, 'M_MISSING_PARAM', msg);
export const invalidParam = (msg: string) => new MatrixError(400, 'M_INVALID_PARAM', msg);
export const tooLarge = (msg = 'Request body too large') => new MatrixError(413, 'M_TOO_LARGE', msg);
export const missingToken = () => new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
export const unknownToken = (softLogout = false, msg = 'Unrecognised access token') =>
  new MatrixError(401, 'M_UNKNOWN_TOKEN', msg, softLogout ? { soft_logout: true } : {});
export const userDeactivated = () => new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated');
export const userInUse = () => new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
export const invalidUsername = (msg: string) => new MatrixError(400, 'M_INVALID_USERNAME', msg);
export const unknownError = (msg = 'Internal server error') => new MatrixError(500, 'M_UNKNOWN', msg);

export function limitExceeded(retryAfterMs: number): MatrixError {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  return new MatrixError(
    429,
    'M_LIMIT_EXCEEDED',
    'Too many requests',
    { retry_after_ms: ms },
    { 'Retry-After': String(Math.ceil(ms / 1000)) },
  );
}
