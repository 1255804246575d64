/** Response headers for served media (client-server API: content repository, security considerations). */

/** Types the spec allows with `Content-Disposition: inline` ("Serving inline content"). */
const INLINE_SAFE = new Set([
  'text/css',
  'text/plain',
  'text/csv',
  'application/json',
  'application/ld+json',
  'image/jpeg',
  'image/gif',
  'image/png',
  'image/apng',
  'image/webp',
  'image/avif',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
  'audio/mp4',
  'audio/webm',
  'audio/aac',
  'audio/mpeg',
  'audio/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wav',
  'audio/flac',
  'audio/x-flac',
]);

const CSP =
  "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';";

/** The media type without parameters, lower-cased: `Text/Plain; charset=utf-8` → `text/plain`. */
export function baseMediaType(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

export function isInlineSafe(contentType: string): boolean {
  return INLINE_SAFE.has(baseMediaType(contentType));
}

/** RFC 5987 attr-char: everything else in a `filename*` value is percent-encoded. */
function encodeExtValue(s: string): string {
  return encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * RFC 6266 Content-Disposition. Printable ASCII names without quote or backslash go in a quoted
 * `filename`; anything else in `filename*` (UTF-8, percent-encoded), so no name can break the header.
 */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string | null | undefined): string {
  if (filename === null || filename === undefined || filename === '') return kind;
  if (/^[\x20-\x7e]*$/.test(filename) && !/["\\]/.test(filename)) return `${kind}; filename="${filename}"`;
  return `${kind}; filename*=utf-8''${encodeExtValue(filename)}`;
}

/** Headers on every media response (downloads and thumbnails). */
export function mediaSecurityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CSP,
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'X-Content-Type-Options': 'nosniff',
  };
}

/** A plausible Content-Type header value (what we store and serve back). */
export function isValidContentType(s: string): boolean {
  return s.length <= 255 && /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;[\x20-\x7e]*)?$/.test(s);
}

/**
 * The filename of a Content-Disposition header sent by another server (`filename*` preferred over
 * `filename`). Names that could not be re-sent safely (control characters, over 255 characters) are
 * dropped: the filename is only ever echoed back in our own Content-Disposition.
 */
export function filenameFromDisposition(header: string | undefined): string | null {
  if (header === undefined) return null;
  let name: string | undefined;
  const ext = /(?:^|;)\s*filename\*\s*=\s*([A-Za-z0-9_-]+)'[^']*'([^;\s]+)/i.exec(header);
  if (ext && ext[1].toLowerCase() === 'utf-8') {
    try {
      name = decodeURIComponent(ext[2]);
    } catch {
      name = undefined;
    }
  }
  if (name === undefined) {
    const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s"]+))/i.exec(header);
    if (plain) name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2];
  }
  if (name === undefined || name === '' || name.length > 255 || /[\u0000-\u001f\u007f]/.test(name)) return null;
  return name;
}
