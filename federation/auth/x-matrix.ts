/**
 * The X-Matrix request signature (server-server API, "Request Authentication"): building the
 * header for outbound requests and parsing/verifying it on inbound ones. Pure: key lookup is the
 * caller's business.
 */
import type { JsonObject, JsonValue } from '../../src/core/json.js';
import { isValidServerName } from '../../src/core/server-name.js';
import { isValidKeyId, type SigningKey, signJson, type VerifyKey, verifyJsonSignature } from '../../src/core/signing.js';

export interface XMatrixParams {
  origin: string;
  /** Absent from older servers' headers; the spec asks recipients to accept that. */
  destination: string | undefined;
  key: string;
  sig: string;
}

export interface SignedRequest {
  method: string;
  /** Path and query string as sent, starting with `/_matrix/`. */
  uri: string;
  origin: string;
  destination: string;
  content?: JsonValue;
}

/** The object whose signature the header carries. */
export function requestSigningObject(r: SignedRequest): JsonObject {
  const obj: JsonObject = { method: r.method, uri: r.uri, origin: r.origin, destination: r.destination };
  if (r.content !== undefined) obj.content = r.content;
  return obj;
}

/** The `Authorization` header value for an outbound request. */
export function signRequest(r: SignedRequest, key: SigningKey): string {
  const signed = signJson(requestSigningObject(r), r.origin, key);
  const sig = signed.signatures[r.origin][key.keyId];
  return `X-Matrix origin="${r.origin}",destination="${r.destination}",key="${key.keyId}",sig="${sig}"`;
}

const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z:]+$/;

/**
 * Parses `X-Matrix name=value, …` (RFC 9110 auth-param syntax: names case-insensitive, values
 * quoted with backslash escapes or bare tokens; bare values may contain colons for older
 * servers). Returns a reason instead of throwing.
 */
export function parseXMatrix(header: string | undefined): { ok: true; params: XMatrixParams } | { ok: false; reason: string } {
  if (typeof header !== 'string') return { ok: false, reason: 'missing Authorization header' };
  const m = /^X-Matrix +(.*)$/is.exec(header.trim());
  if (!m) return { ok: false, reason: 'Authorization header is not X-Matrix' };
  const text = m[1];
  const values = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /[ \t,]/.test(text[i])) i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) return { ok: false, reason: 'malformed X-Matrix parameter' };
    const name = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i++];
        if (c === '\\') {
          if (i >= text.length) break;
          value += text[i++];
        } else if (c === '"') {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) return { ok: false, reason: 'unterminated quoted X-Matrix value' };
    } else {
      const end = text.slice(i).search(/[ \t,]/);
      value = end < 0 ? text.slice(i) : text.slice(i, i + end);
      i += value.length;
      if (!TOKEN_CHARS.test(value)) return { ok: false, reason: `malformed X-Matrix value for ${name}` };
    }
    if (!values.has(name)) values.set(name, value);
  }
  const origin = values.get('origin');
  const key = values.get('key');
  const sig = values.get('sig');
  if (origin === undefined || key === undefined || sig === undefined) {
    return { ok: false, reason: 'X-Matrix header lacks origin, key or sig' };
  }
  if (!isValidServerName(origin)) return { ok: false, reason: 'X-Matrix origin is not a valid server name' };
  if (!isValidKeyId(key)) return { ok: false, reason: `unsupported X-Matrix key ${key}` };
  return { ok: true, params: { origin, destination: values.get('destination'), key, sig } };
}

/** Checks the header's signature over the request with the origin's key. */
export function verifyRequestSignature(params: XMatrixParams, request: Omit<SignedRequest, 'origin' | 'destination'> & { destination: string }, key: VerifyKey): boolean {
  const obj = requestSigningObject({ ...request, origin: params.origin });
  const withSig = { ...obj, signatures: { [params.origin]: { [params.key]: params.sig } } };
  return verifyJsonSignature(withSig, params.origin, key);
}

