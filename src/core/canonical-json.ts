/**
 * Canonical JSON as defined in the spec appendix ("Signing JSON" → "Canonical JSON").
 *
 * This sits on the hot path of every hash and signature, so it is a hand-written recursive
 * encoder rather than a sort-then-JSON.stringify copy: copying objects costs more than the
 * encoding, and V8 enumerates integer-like keys ("9" before "10") ahead of the others, which
 * would break code-point ordering.
 *
 * Decisions worth knowing:
 * - Strings go through JSON.stringify, whose escaping matches the spec grammar exactly: `"` `\`
 *   and \b \t \n \f \r get short escapes, other U+0000–U+001F become \u00xx with lowercase hex,
 *   and nothing else (not `/`, not U+007F, not U+2028/2029, not non-ASCII) is escaped.
 * - Lone surrogates are rejected: they cannot be encoded as UTF-8, and the grammar has no escape
 *   for them (Python's reference implementation fails on them too, at `.encode("UTF-8")`).
 * - `-0` is accepted and written as `0`, as the appendix example `{"a": -0}` → `{"a":0}` asks.
 * - Only plain objects (prototype Object.prototype or null) and arrays are accepted; undefined
 *   values (including as object members), functions, symbols, bigints, Dates, Maps, Buffers …
 *   are rejected rather than silently dropped or converted the way JSON.stringify would.
 * - Keys are sorted with the default (UTF-16) sort and their quoted forms memoised; objects with
 *   a key containing a unit >= U+D800 take a slower path that sorts by code point.
 * - Nesting deeper than MAX_DEPTH is rejected so hostile input (or a cycle) gives a
 *   CanonicalJsonError rather than a stack overflow.
 */

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

/** Far beyond anything legitimate; a 64 KiB event can nest ~32k deep, which we refuse. */
const MAX_DEPTH = 512;

const objectProto = Object.prototype;

/** Any UTF-16 code unit at or above U+D800: keys without one sort identically in UTF-16 and code-point order. */
const HIGH_UNIT = /[\ud800-\uffff]/;

export function canonicalJson(value: unknown): string {
  const out = encode(value, 0);
  // JSON.stringify writes a lone surrogate as \udXXX. Such an escape can only reach the output
  // that way, so a cheap substring scan covers every string and key at once; the precise check
  // (the backslash must not itself be escaped) runs only on the rare hit. The scan flattens the
  // concatenated string, work that the UTF-8 encoding in canonicalJsonBytes needs anyway.
  if (out.includes('\\ud') && LONE_SURROGATE_ESCAPE.test(out)) {
    throw new CanonicalJsonError('string contains a lone surrogate (not representable in UTF-8)');
  }
  return out;
}

export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** `\udXXX` preceded by an even number of backslashes (i.e. a real escape, not an escaped `\`). */
const LONE_SURROGATE_ESCAPE = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

// One function for all value kinds: splitting arrays and objects into helpers measured slower.
function encode(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      // isSafeInteger is exactly the spec range [-(2**53)+1, (2**53)-1]; String(-0) is "0".
      if (Number.isSafeInteger(v)) return String(v);
      throw new CanonicalJsonError(`number not allowed in canonical JSON: ${v}`);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth >= MAX_DEPTH) throw new CanonicalJsonError('JSON nested too deeply');
      const d = depth + 1;
      if (Array.isArray(v)) {
        const n = v.length;
        if (n === 0) return '[]';
        let s = '[' + encode(v[0], d);
        for (let i = 1; i < n; i++) s += ',' + encode(v[i], d);
        return s + ']';
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== objectProto && proto !== null) {
        throw new CanonicalJsonError(`non-plain object (${proto?.constructor?.name ?? 'unknown'}) not allowed in canonical JSON`);
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      const n = keys.length;
      if (n === 0) return '{}';
      if (n > 1) keys.sort();
      let s = '{';
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        const qk = quoteKey(k);
        // The UTF-16 sort above is only right when no key has a unit >= U+D800: start over properly.
        if (qk === undefined) return encodeObjectByCodePoint(o, keys, d);
        const val = o[k];
        if (val === undefined) throw undefinedMember(k);
        s += (i === 0 ? '' : ',') + qk + ':' + encode(val, d);
      }
      return s + '}';
    }
    default:
      throw new CanonicalJsonError(`value of type ${typeof v} not allowed in canonical JSON`);
  }
}

function encodeObjectByCodePoint(o: Record<string, unknown>, keys: string[], depth: number): string {
  keys.sort(compareCodePoints);
  let s = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const val = o[k];
    if (val === undefined) throw undefinedMember(k);
    s += (i === 0 ? '' : ',') + JSON.stringify(k) + ':' + encode(val, depth);
  }
  return s + '}';
}

function undefinedMember(k: string): CanonicalJsonError {
  return new CanonicalJsonError(`member ${JSON.stringify(k)} is undefined`);
}

/**
 * Quoted keys, memoised: the same few hundred member names recur in every event, and quoting
 * plus checking them was the largest cost in profiling. Holds only keys without units >= U+D800
 * (those sort the same in UTF-16 and code-point order); cleared when full so hostile key sets
 * cannot grow it without bound.
 */
const QUOTED_LIMIT = 4096;
const quotedKeys = new Map<string, string>();

/** The JSON-quoted key, or undefined if the key contains a unit >= U+D800. */
function quoteKey(k: string): string | undefined {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    if (HIGH_UNIT.test(k)) return undefined;
    q = JSON.stringify(k);
    if (quotedKeys.size >= QUOTED_LIMIT) quotedKeys.clear();
    quotedKeys.set(k, q);
  }
  return q;
}

/** Maps a code unit so that plain numeric order equals code-point order of the strings. */
function rank(c: number): number {
  if (c >= 0xe000) return c - 0x800; // U+E000–U+FFFF move down below the surrogates
  if (c >= 0xd800) return c + 0x2000; // surrogates move above U+FFFF's new position
  return c;
}

export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}
