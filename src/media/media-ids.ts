/**
 * mxc:// URI parts. The spec requires sanitising both parts before use (path traversal such as
 * `mxc://127.0.0.1/../../etc/passwd`): server names must be valid server names and media IDs use only
 * `A-Za-z0-9_-`. Media IDs never reach the file system anyway (blobs are stored by hash), but invalid
 * ones are refused outright.
 */
import { randomBytes } from 'node:crypto';
import { invalidParam } from '../http/errors.js';

const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;
const DNS_NAME = /^(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$/;
const IPV6_LITERAL = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function isMediaId(s: string): boolean {
  return MEDIA_ID.test(s);
}

/** Server name grammar from the appendices: hostname (DNS name, IPv4, [IPv6]) with an optional port. */
export function isServerName(s: string): boolean {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(s);
  if (!m || m[1].length === 0 || m[1].length > 255) return false;
  if (m[2] !== undefined && Number(m[2]) > 65535) return false;
  return DNS_NAME.test(m[1]) || IPV6_LITERAL.test(m[1]);
}

export function checkMxcParts(serverName: string, mediaId: string): void {
  if (!isServerName(serverName)) throw invalidParam('Invalid server name in media URI');
  if (!isMediaId(mediaId)) throw invalidParam('Invalid media ID: only A-Z, a-z, 0-9, _ and - are allowed');
}

/** 24 random alphanumeric characters (~143 bits). */
export function newMediaId(): string {
  const bytes = randomBytes(32);
  let id = '';
  for (const b of bytes) {
    // Rejection sampling keeps the distribution uniform (248 = 4 * 62).
    if (b < 248) id += ALPHANUMERIC[b % 62];
    if (id.length === 24) return id;
  }
  return id + newMediaId().slice(id.length);
}

export function mxcUri(serverName: string, mediaId: string): string {
  return `mxc://${serverName}/${mediaId}`;
}
