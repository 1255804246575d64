/**
 * Server ACLs (`m.room.server_acl`): whether a server may take part in a room, decided from the
 * ACL event's content in the order the event's definition gives.
 */
import { isJsonObject, type JsonValue } from '../core/json.js';
import { parseServerName } from '../core/server-name.js';

/** Spec appendix "Glob-style matching": `*` any run of characters, `?` one character; case-insensitive here. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

function matchesAny(list: JsonValue | undefined, host: string): boolean {
  if (!Array.isArray(list)) return false;
  return list.some((g) => typeof g === 'string' && globToRegExp(g).test(host));
}

/** `content` is the ACL event's content, or undefined when the room has none (then everyone is allowed). */
export function serverAclAllows(content: JsonValue | undefined, serverName: string): boolean {
  if (content === undefined) return true;
  if (!isJsonObject(content)) return false;
  const parsed = parseServerName(serverName);
  if (!parsed) return false;
  // Ports are never considered; IPv6 literals are compared in their bracketed form.
  const host = parsed.ipFamily === 6 ? `[${parsed.host}]` : parsed.host;
  if (parsed.ipFamily !== 0 && content.allow_ip_literals === false) return false;
  if (matchesAny(content.deny, host)) return false;
  return matchesAny(content.allow, host);
}
