/**
 * Outbound federation: every local event that enters a room's timeline goes to the other servers
 * with joined members in that room, and EDUs go to the destinations their producers name. Both
 * are queued per destination in the store first, then sent as transactions (≤ 50 PDUs, ≤ 100
 * EDUs), one transaction in flight per destination, retried under the same transaction ID with
 * exponential back-off. A destination coming back after an outage gets the newest events of each
 * room only (it backfills the rest through get_missing_events); an inbound request from a
 * destination counts as a sign of life and ends its back-off.
 */
import type { JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import type { Logger } from '../../src/logger.js';
import type { PersistedRoomEvent } from '../../src/room-engine/event-pipeline.js';
import type { EventStore } from '../../src/storage/event-store.js';
import type { FederationQueueStore } from '../../src/storage/federation-store.js';
import { FederationError } from '../client/federation-client.js';

export const MAX_PDUS_PER_TXN = 50;
export const MAX_EDUS_PER_TXN = 100;
/** After an outage, how many of the newest unsent events of each room still go out. */
export const CATCH_UP_PDUS_PER_ROOM = 10;

export interface TransactionSender {
  request<T>(destination: string, method: string, path: string, opts: { body: JsonObject; timeoutMs?: number }): Promise<T>;
}

export interface SenderDeps {
  serverName: string;
  queue: FederationQueueStore;
  events: Pick<EventStore, 'getEvent' | 'getRoomMembers'>;
  client: TransactionSender;
  logger: Logger;
  now: () => number;
  /** First retry delay; doubles per failure up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export class FederationSender {
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly roomServers = new Map<string, Promise<string[]>>();
  private txnCounter = 0;
  private stopped = false;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly d: SenderDeps) {
    this.baseBackoffMs = d.baseBackoffMs ?? 2_000;
    this.maxBackoffMs = d.maxBackoffMs ?? 10 * 60_000;
  }

  /** Resumes destinations with queued items (at start). */
  async start(): Promise<void> {
    for (const dest of await this.d.queue.destinationsWithPending()) this.kick(dest);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** The pipeline's onPersisted hook: queue local events for the room's other servers. */
  readonly onPersisted = (e: PersistedRoomEvent): void => {
    const { event } = e;
    if (event.type === 'm.room.member') this.memberChanged(event.roomId, event.stateKey, event.content.membership);
    if (e.origin !== 'local') return;
    // An invite reached the invitee's server through /invite already; other member events (kick,
    // ban, leave) also go to the target's server, which may not be in the room any more.
    const target = event.type === 'm.room.member' && event.content.membership !== 'invite' ? event.stateKey : undefined;
    void this.queueEvent(event.roomId, event.eventId, target).catch((err) =>
      this.d.logger.error({ err, eventId: event.eventId }, 'could not queue an event for federation'),
    );
  };

  private async queueEvent(roomId: string, eventId: string, memberTarget: string | undefined): Promise<void> {
    const servers = new Set(await this.serversInRoom(roomId));
    if (memberTarget !== undefined) servers.add(domainOf(memberTarget));
    servers.delete(this.d.serverName);
    servers.delete('');
    if (servers.size === 0) return;
    await this.d.queue.enqueuePdu([...servers], eventId, roomId);
    for (const s of servers) this.kick(s);
  }

  /**
   * Keeps the cached servers of a room in step with a member event. A join can only add its
   * server, so it is applied in place: re-reading the member list on every join made filling a
   * large room quadratic. Any other membership may remove a server and drops the cache.
   */
  private memberChanged(roomId: string, userId: string | undefined, membership: unknown): void {
    const cached = this.roomServers.get(roomId);
    if (!cached) return;
    if (membership !== 'join' || userId === undefined) {
      this.roomServers.delete(roomId);
      return;
    }
    const server = domainOf(userId);
    const next = cached.then((servers) => (servers.includes(server) ? servers : [...servers, server]));
    next.catch(() => this.roomServers.delete(roomId));
    this.roomServers.set(roomId, next);
  }

  /** Servers with joined members (cached per room, kept in step with member events). */
  serversInRoom(roomId: string): Promise<string[]> {
    let p = this.roomServers.get(roomId);
    if (!p) {
      p = this.d.events.getRoomMembers(roomId, ['join']).then((ms) => [...new Set(ms.map((m) => domainOf(m.userId)))]);
      this.roomServers.set(roomId, p);
      p.catch(() => this.roomServers.delete(roomId));
    }
    return p;
  }

  /**
   * Queues an EDU (`{edu_type, content}`) for the destinations. With `coalesceKey`, a newer EDU
   * replaces an older one with the same key that has not gone out yet (typing, presence).
   */
  async sendEdu(destinations: Iterable<string>, eduType: string, content: JsonObject, coalesceKey?: string): Promise<void> {
    const dests = [...new Set(destinations)].filter((d) => d !== this.d.serverName && d !== '');
    if (dests.length === 0) return;
    await this.d.queue.enqueueEdu(dests, { edu_type: eduType, content }, coalesceKey);
    for (const s of dests) this.kick(s);
  }

  /** A request from `destination` arrived: it is up, so retry it now instead of after its back-off. */
  markAlive(destination: string): void {
    const t = this.timers.get(destination);
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(destination);
    void (async () => {
      const s = await this.d.queue.getDestination(destination);
      if (s && s.failures > 0) await this.d.queue.setDestination({ destination, failures: s.failures, retryAfterTs: 0 });
      this.kick(destination);
    })().catch((err) => this.d.logger.error({ err, destination }, 'could not resume a destination'));
  }

  /** Makes sure the destination's loop runs (or runs once more after the current pass). */
  kick(destination: string): void {
    if (this.stopped || this.timers.has(destination)) return;
    if (this.running.has(destination)) {
      this.again.add(destination);
      return;
    }
    this.running.add(destination);
    void this.drain(destination)
      .catch((err) => this.d.logger.error({ err, destination }, 'federation sender loop failed'))
      .finally(() => {
        this.running.delete(destination);
        if (this.again.delete(destination)) this.kick(destination);
      });
  }

  private async drain(destination: string): Promise<void> {
    while (!this.stopped) {
      const state = await this.d.queue.getDestination(destination);
      const now = this.d.now();
      if (state && state.retryAfterTs > now) {
        this.schedule(destination, state.retryAfterTs - now);
        return;
      }
      if (state && state.failures > 0) {
        const dropped = await this.d.queue.trimPdus(destination, CATCH_UP_PDUS_PER_ROOM);
        if (dropped > 0) this.d.logger.info({ destination, dropped }, 'catch-up: sending only the newest events per room');
      }
      const { txnId, items } = await this.d.queue.claim(destination, `${now}.${++this.txnCounter}`, MAX_PDUS_PER_TXN, MAX_EDUS_PER_TXN);
      if (items.length === 0) return;
      const pdus: JsonObject[] = [];
      const edus: JsonObject[] = [];
      for (const item of items) {
        if (item.edu) edus.push(item.edu);
        else if (item.eventId) {
          const stored = await this.d.events.getEvent(item.eventId);
          if (!stored) continue;
          const { unsigned: _u, ...pdu } = stored.event.pdu;
          pdus.push(pdu as JsonObject);
        }
      }
      const ok = await this.sendTxn(destination, txnId, pdus, edus);
      if (ok) {
        await this.d.queue.ack(destination, txnId);
        if (state && state.failures > 0) await this.d.queue.setDestination({ destination, failures: 0, retryAfterTs: 0 });
        continue;
      }
      const failures = (state?.failures ?? 0) + 1;
      const delay = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.min(failures - 1, 30));
      await this.d.queue.setDestination({ destination, failures, retryAfterTs: this.d.now() + delay });
      this.schedule(destination, delay);
      return;
    }
  }

  private schedule(destination: string, delayMs: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(destination);
      this.kick(destination);
    }, delayMs);
    t.unref();
    this.timers.set(destination, t);
  }

  /** True when the transaction is done with: delivered, or refused in a way retrying cannot fix. */
  private async sendTxn(destination: string, txnId: string, pdus: JsonObject[], edus: JsonObject[]): Promise<boolean> {
    const body: JsonObject = { origin: this.d.serverName, origin_server_ts: this.d.now(), pdus, edus };
    try {
      const res = await this.d.client.request<JsonObject>(
        destination,
        'PUT',
        `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`,
        { body },
      );
      const results = res.pdus;
      if (results && typeof results === 'object' && !Array.isArray(results)) {
        for (const [eventId, r] of Object.entries(results)) {
          if (r && typeof r === 'object' && 'error' in r) this.d.logger.info({ destination, eventId, error: r.error }, 'remote refused a PDU');
        }
      }
      return true;
    } catch (err) {
      if (err instanceof FederationError && (err.status === 400 || err.status === 413)) {
        this.d.logger.warn({ destination, txnId, errcode: err.errcode, error: err.error }, 'transaction refused; dropping it');
        return true;
      }
      this.d.logger.info(
        { destination, txnId, err: err instanceof Error ? err.message : String(err) },
        'transaction failed; backing off',
      );
      return false;
    }
  }
}
