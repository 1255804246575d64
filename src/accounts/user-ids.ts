/** User ID grammar (appendices: user identifiers). */

const LOCALPART = /^[a-z0-9._=\-/+]+$/;
const MAX_USER_ID_BYTES = 255;

export function userIdFor(localpart: string, serverName: string): string {
  return `@${localpart}:${serverName}`;
}

/** Why `localpart` cannot be registered on this server, or undefined if it can. */
export function localpartProblem(localpart: string, serverName: string): string | undefined {
  if (localpart === '') return 'User ID cannot be empty';
  if (!LOCALPART.test(localpart)) return 'User ID may only contain a-z, 0-9, and the characters . _ = - / +';
  if (Buffer.byteLength(userIdFor(localpart, serverName)) > MAX_USER_ID_BYTES) return 'User ID is too long';
  return undefined;
}

/** Any syntactically plausible user ID, including historical localparts (for path parameters). */
export function isUserId(s: string): boolean {
  const colon = s.indexOf(':');
  return s.startsWith('@') && colon > 0 && colon < s.length - 1 && Buffer.byteLength(s) <= MAX_USER_ID_BYTES;
}

export function localpartOf(userId: string): string {
  return userId.slice(1, userId.indexOf(':'));
}

/**
 * The local user ID a login identifier (`@user:server` or a bare localpart) names, case-folded, or
 * undefined if it names a user on another server.
 */
export function resolveLocalUser(user: string, serverName: string): string | undefined {
  if (user.startsWith('@')) {
    const colon = user.indexOf(':');
    if (colon < 0 || user.slice(colon + 1) !== serverName) return undefined;
    return userIdFor(user.slice(1, colon).toLowerCase(), serverName);
  }
  return userIdFor(user.toLowerCase(), serverName);
}
