/**
 * Grammar checks for the identifiers the auth rules must validate (power level `users` keys,
 * v12 `additional_creators`). They follow the lenient historical user ID grammar, because
 * rooms still contain senders whose localparts predate the strict character set.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const DNS_NAME = /^[0-9A-Za-z.-]{1,255}$/;
const IPV6_BODY = /^[0-9A-Fa-f:.]{2,45}$/;
const PORT = /^\d{1,5}$/;

export function isValidServerName(name: string): boolean {
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0 || !IPV6_BODY.test(name.slice(1, close))) return false;
    const rest = name.slice(close + 1);
    return rest === '' || (rest.startsWith(':') && PORT.test(rest.slice(1)));
  }
  const colon = name.indexOf(':');
  if (colon < 0) return DNS_NAME.test(name);
  return DNS_NAME.test(name.slice(0, colon)) && PORT.test(name.slice(colon + 1));
}

/** `@localpart:server_name`, at most 255 bytes; the localpart may be any code points but `:` and NUL. */
export function isValidUserId(id: unknown): id is string {
  if (typeof id !== 'string' || !id.startsWith('@')) return false;
  if (Buffer.byteLength(id, 'utf8') > 255) return false;
  const colon = id.indexOf(':');
  if (colon < 0) return false;
  const localpart = id.slice(1, colon);
  if (localpart.includes('\u0000') || LONE_SURROGATE.test(localpart)) return false;
  return isValidServerName(id.slice(colon + 1));
}
