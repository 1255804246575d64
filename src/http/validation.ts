/** Maps schema failures onto the spec's error codes, naming the offending key. */
import { z } from 'zod';
import type { JsonObject } from '../core/json.js';
import { badJson, invalidParam, type MatrixError, missingParam } from './errors.js';

function keyPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(body)' : path.map(String).join('.');
}

/**
 * Body: a missing required key is M_MISSING_PARAM, anything else malformed M_BAD_JSON.
 * Query: missing is M_MISSING_PARAM, a bad value M_INVALID_PARAM.
 */
export function validationError(issues: readonly z.core.$ZodIssue[], where: 'body' | 'query'): MatrixError {
  const issue = issues[0];
  // A required key that is absent fails as invalid_type (typed keys) or invalid_value (enums).
  const missing =
    (issue.code === 'invalid_type' || issue.code === 'invalid_value') && (issue as { input?: unknown }).input === undefined;
  const what = keyPath(issue.path);
  if (missing) return missingParam(`Missing ${where === 'query' ? 'query parameter' : 'key'} '${what}'`);
  const msg = `Invalid ${where === 'query' ? 'query parameter' : 'value for'} '${what}': ${issue.message}`;
  return where === 'query' ? invalidParam(msg) : badJson(msg);
}

/**
 * Parsed without `reportInput` first: with it zod skips its compiled fast path and a valid input
 * costs about four times as much. Only a failure is parsed again, with the input, for the error.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query'): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const reported = schema.safeParse(input, { reportInput: true });
  throw validationError(reported.success ? r.error.issues : reported.error.issues, where);
}

/** Any JSON object (account data content and the like). */
export const jsonObject = z.custom<JsonObject>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'expected a JSON object',
);
