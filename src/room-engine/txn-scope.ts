/**
 * Transaction IDs are scoped to a device and one endpoint path (spec: "Transaction identifiers"):
 * the same `{txnId}` on PUT /send/m.room.message and on PUT /redact/… names two requests. The key
 * stored for deduplication carries the path; what the client sent is recovered from it for
 * `unsigned.transaction_id`. Keys without the marker (older rows, WebSocket sends) are the bare ID.
 */
const MARK = '\u0001';

/** The dedup key for `txnId` sent to the endpoint named by `scope` (its path parameters other than the txnId). */
export function scopedTxnId(scope: readonly string[], txnId: string): string {
  return MARK + JSON.stringify([...scope, txnId]);
}

/** The client's own transaction ID behind a stored dedup key. */
export function clientTxnId(stored: string): string {
  if (!stored.startsWith(MARK)) return stored;
  try {
    const parts: unknown = JSON.parse(stored.slice(MARK.length));
    const last: unknown = Array.isArray(parts) ? parts.at(-1) : undefined;
    if (typeof last === 'string') return last;
  } catch {
    // Not one of ours after all: a bare ID that happened to start with the marker.
  }
  return stored;
}
