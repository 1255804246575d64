/**
 * Checks and stores events whose place in the room graph is not known: the state and auth chain
 * a remote server returns for a join, the auth events of a received event. They get the
 * checks an outlier can get — format, signatures, content hash (redacted on mismatch) and the
 * auth rules against their own auth events — and are stored as outliers in one transaction,
 * rejected ones with their reason. Nothing is announced: outliers are not in any timeline.
 */
import { toRoomEvent } from '../core/event-format.js';
import { wantedKeys } from '../core/event-self-check.js';
import type { Pdu, RoomEvent } from '../core/pdu.js';
import { stateKeyOf } from '../core/pdu.js';
import { redactPdu } from '../core/redaction.js';
import type { VerifyKey } from '../core/signing.js';
import type { RoomVersion } from '../rooms/versions.js';
import type { EventStore, PersistEventInput } from '../storage/event-store.js';
import { type AuthStateLookup, checkAuthEventsList, checkEventAuth } from './core-rules.js';
import type { KeyRing } from './key-ring.js';
import { type SignatureVerifier, sharedSignatureVerifier } from './signature-verifier.js';

/** Events handed to the checker at a time. */
const CHUNK = 1000;

export interface OutlierImport {
  /** Every event of the batch that is now stored (or was already), accepted or rejected, by ID. */
  events: Map<string, RoomEvent>;
  /** The IDs of those that failed the auth rules, with why. */
  rejected: Map<string, string>;
  /** Dropped without being stored: malformed, badly signed, or missing auth events. */
  dropped: Array<{ eventId?: string; reason: string }>;
  /** The event ID of each input, in input order (undefined where the input was malformed). */
  ids: Array<string | undefined>;
}

export interface OutlierImportOptions {
  /** The batch opens a room this server did not have (a remote join): its row is written with it. */
  newRoom?: { creator: string };
  /** Where the events' own checks run; default: the process-wide worker pool (inline for small batches). */
  verifier?: SignatureVerifier;
}

/**
 * Imports `raws` (PDUs in the room version's format) as outliers. Order does not matter: the
 * batch is checked in auth-chain order, so every event is checked after its auth events.
 */
export async function importOutliers(
  store: EventStore,
  keyRing: KeyRing,
  version: RoomVersion,
  raws: readonly unknown[],
  opts: OutlierImportOptions = {},
): Promise<OutlierImport> {
  const dropped: OutlierImport['dropped'] = [];
  const verifier = opts.verifier ?? sharedSignatureVerifier();
  const ids: Array<string | undefined> = new Array(raws.length).fill(undefined);
  const parsed = new Map<string, RoomEvent>();
  const passed: Array<{ ev: RoomEvent; contentHashOk: boolean }> = [];
  const badlySigned = new Map<string, string>();
  // In chunks, so results come back (and are handled here) while workers check the next ones.
  const checking: Array<Promise<void>> = [];
  for (let i = 0; i < raws.length; i += CHUNK) {
    const chunk = raws.slice(i, i + CHUNK);
    const keys = await preloadKeys(keyRing, chunk, version);
    checking.push(
      verifier.checkEvents(version, chunk, keys).then((results) => {
        for (const [n, r] of results.entries()) {
          if (r.eventId === undefined) {
            dropped.push({ reason: r.ok ? 'no event ID' : r.reason });
            continue;
          }
          ids[i + n] = r.eventId;
          if (parsed.has(r.eventId)) continue;
          // The checks passed on this very object (or its exact copy): validatePdu returns its input.
          const ev = toRoomEvent(chunk[n] as Pdu, version, { eventId: r.eventId });
          parsed.set(r.eventId, ev);
          if (r.ok) passed.push({ ev, contentHashOk: r.contentHashOk });
          else badlySigned.set(r.eventId, r.reason);
        }
      }),
    );
  }
  await Promise.all(checking);

  // Events already stored are taken as stored (and so never dropped for this copy's signatures).
  const known = await store.getEvents([...parsed.keys()]);
  for (const [id, reason] of badlySigned) if (!known.has(id)) dropped.push({ eventId: id, reason });
  const fresh = new Map<string, RoomEvent>();
  for (const { ev, contentHashOk } of passed) {
    if (known.has(ev.eventId)) continue;
    fresh.set(ev.eventId, contentHashOk ? ev : toRoomEvent(redactPdu(ev.pdu, version), version));
  }

  // Auth events outside the batch must already be stored.
  const outside = new Set<string>();
  for (const ev of fresh.values()) for (const a of ev.authEventIds) if (!fresh.has(a) && !known.has(a)) outside.add(a);
  if (version.roomIdFromCreateEvent) {
    for (const ev of fresh.values()) if (ev.type !== 'm.room.create') outside.add(`$${ev.roomId.slice(1)}`);
  }
  for (const id of fresh.keys()) outside.delete(id);
  for (const id of known.keys()) outside.delete(id);
  const stored = await store.getEvents([...outside]);
  for (const [id, s] of known) stored.set(id, s);

  const available = new Map<string, RoomEvent>();
  const rejected = new Map<string, string>();
  for (const [id, s] of stored) {
    available.set(id, s.event);
    if (s.rejectedReason !== undefined) rejected.set(id, s.rejectedReason);
  }

  const inputs: PersistEventInput[] = [];
  for (const ev of authOrder(fresh, version)) {
    const missing = ev.authEventIds.filter((a) => !available.has(a));
    if (missing.length > 0) {
      dropped.push({ eventId: ev.eventId, reason: `auth events not known: ${missing.join(', ')}` });
      continue;
    }
    const authEvents = ev.authEventIds.map((a) => available.get(a)!);
    const implied: RoomEvent[] = [];
    if (version.roomIdFromCreateEvent && ev.type !== 'm.room.create') {
      const create = available.get(`$${ev.roomId.slice(1)}`);
      if (!create) {
        dropped.push({ eventId: ev.eventId, reason: 'create event not known' });
        continue;
      }
      implied.push(create);
    }
    let reason: string | undefined;
    const list = checkAuthEventsList(version, ev, authEvents, (a) => rejected.has(a));
    if (!list.allowed) reason = list.reason;
    else {
      const auth = checkEventAuth(version, ev, lookupIn([...implied, ...authEvents]));
      if (!auth.allowed) reason = auth.reason;
    }
    available.set(ev.eventId, ev);
    if (reason !== undefined) rejected.set(ev.eventId, reason);
    inputs.push({ event: ev, outlier: true, rejectedReason: reason });
  }

  if (opts.newRoom && inputs.length > 0) inputs[0] = { ...inputs[0], newRoom: { version: version.id, creator: opts.newRoom.creator } };
  if (inputs.length > 0) {
    const stored = await store.persistEvents(inputs);
    if (stored.error !== undefined) throw stored.error;
  }

  const events = new Map<string, RoomEvent>();
  for (const [id] of parsed) {
    const ev = available.get(id);
    if (ev) events.set(id, ev);
  }
  return { events, rejected, dropped, ids };
}

/** Fetches each signing server's keys once for the whole batch. */
async function preloadKeys(keyRing: KeyRing, raws: readonly unknown[], version: RoomVersion): Promise<Map<string, VerifyKey>> {
  const wanted = new Map<string, Set<string>>();
  for (const raw of raws) {
    for (const [server, keyIds] of wantedKeys(raw, version)) {
      let set = wanted.get(server);
      if (!set) {
        set = new Set();
        wanted.set(server, set);
      }
      for (const k of keyIds) set.add(k);
    }
  }
  const out = new Map<string, VerifyKey>();
  await Promise.all(
    [...wanted].map(async ([server, keyIds]) => {
      for (const k of await keyRing.getVerifyKeys(server, [...keyIds])) out.set(`${server}\u0000${k.keyId}`, k);
    }),
  );
  return out;
}

/** The batch ordered so that each event comes after those of its auth events that are in the batch; cycles are left out. */
function authOrder(batch: ReadonlyMap<string, RoomEvent>, version: RoomVersion): RoomEvent[] {
  const pending = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const [id, ev] of batch) {
    let n = 0;
    const deps = new Set(ev.authEventIds);
    // From v12 every event depends on the create event without citing it.
    if (version.roomIdFromCreateEvent && ev.type !== 'm.room.create') deps.add(`$${ev.roomId.slice(1)}`);
    for (const a of deps) {
      if (!batch.has(a)) continue;
      n++;
      const c = children.get(a);
      if (c) c.push(id);
      else children.set(a, [id]);
    }
    pending.set(id, n);
  }
  const ready = [...batch.keys()].filter((id) => pending.get(id) === 0);
  const out: RoomEvent[] = [];
  while (ready.length > 0) {
    const id = ready.pop()!;
    out.push(batch.get(id)!);
    for (const c of children.get(id) ?? []) {
      const n = pending.get(c)! - 1;
      pending.set(c, n);
      if (n === 0) ready.push(c);
    }
  }
  return out;
}

function lookupIn(events: readonly RoomEvent[]): AuthStateLookup {
  const m = new Map<string, RoomEvent>();
  for (const e of events) if (e.stateKey !== undefined) m.set(stateKeyOf(e.type, e.stateKey), e);
  return (type, stateKey) => m.get(stateKeyOf(type, stateKey));
}
