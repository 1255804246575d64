/**
 * The sync service: the long-poll loop around SyncBuilder, shared by GET /sync and (later)
 * WebSocket sync. The loop takes the notifier's mark before reading, so a write landing between
 * the read and the wait wakes it (see src/notifier.ts).
 */
import type { JsonObject } from '../core/json.js';
import type { Notifier, WaitSignal } from '../notifier.js';
import type { RoomReads, Viewer } from '../room-engine/room-reads.js';
import type { Storage } from '../storage/storage.js';
import type { Filter } from '../sync/filter.js';
import { LazyMemberCache } from '../sync/lazy-members.js';
import { clampToken, makeSyncToken, type SyncToken } from '../sync/sync-token.js';
import { BuildGate } from './build-gate.js';
import { Settling } from './maybe-promise.js';
import { RealtimeSync } from './realtime-sections.js';
import type { RealtimeServices } from './realtime-sections.js';
import { RoomHistory } from './room-history.js';
import { SyncBuilder, type SyncResult } from './sync-builder.js';
import type { SyncResponse } from './sync-response.js';

/** Sync builds in progress at once (see build-gate.ts); the rest queue. */
const BUILDS_AT_ONCE = 8;

export interface SyncOptions {
  viewer: Required<Viewer>;
  since: SyncToken | undefined;
  filter: Filter;
  fullState: boolean;
  timeoutMs: number;
  signal?: WaitSignal;
  /**
   * WebSocket sync builds each delta from the last one it sent, but to-device messages are only
   * deleted up to what the client acknowledged (its connect token, or an `ack` frame).
   */
  toDeviceAck?: number;
}

export class SyncEngine {
  readonly history: RoomHistory;
  private readonly builder: SyncBuilder;
  private readonly gate = new BuildGate(BUILDS_AT_ONCE);
  private readonly realtime: RealtimeSync | undefined;
  /** The last `currentToken()` read and the notifier mark it was read at (see currentToken). */
  private positions: { mark: number; token: Settling<SyncToken> } | undefined;

  constructor(
    private readonly storage: Storage,
    reads: RoomReads,
    private readonly notifier: Notifier,
    private readonly now: () => number,
    /** Typing, receipts, presence, to-device, device lists; without them those sections stay empty. */
    realtime?: RealtimeServices,
    options: { shareRoomDeltas?: boolean } = {},
  ) {
    this.history = new RoomHistory(storage.events, reads);
    this.realtime = realtime && new RealtimeSync(realtime, storage.events);
    this.builder = new SyncBuilder(storage, this.history, new LazyMemberCache(), this.realtime, options.shareRoomDeltas ?? true);
  }

  /**
   * The position of every stream right now. Every write that moves a stream notifies after it
   * commits, which moves the notifier's mark: while the mark stays where it was, the positions
   * read then are still current, and the many long polls woken by one event share one read.
   */
  currentToken(): Promise<SyncToken> {
    const mark = this.notifier.mark();
    if (this.positions?.mark !== mark) {
      const entry: { mark: number; token: Settling<SyncToken> } = {
        mark,
        token: new Settling(this.readPositions(), () => {
          if (this.positions === entry) this.positions = undefined;
        }),
      };
      this.positions = entry;
    }
    return this.positions.token.promise;
  }

  /** `currentToken()`'s answer when it is already known, without waiting a turn for it. */
  private currentTokenNow(): SyncToken | undefined {
    return this.positions?.mark === this.notifier.mark() ? this.positions.token.known() : undefined;
  }

  private async readPositions(): Promise<SyncToken> {
    return makeSyncToken({
      events: await this.storage.events.getMaxStreamOrdering(),
      accountData: await this.storage.accountData.currentStreamId(),
      ...(await this.realtime?.positions()),
    });
  }

  /**
   * The empty result when `opts.since` is the current position (see SyncBuilder.caughtUp), with
   * the mark taken before reading it. Synchronous: it runs for every delivery (the client comes
   * straight back), and answers only from what is known already, else leaves it to a build.
   */
  private caughtUp(opts: SyncOptions): { mark: number; result: SyncResult } | undefined {
    const mark = this.notifier.mark();
    const current = this.currentTokenNow();
    if (current === undefined || opts.since === undefined) return undefined;
    const since = clampToken(opts.since, current);
    const result = this.builder.caughtUp({ viewer: opts.viewer, since, current, fullState: opts.fullState, toDeviceAck: opts.toDeviceAck });
    return result && { mark, result };
  }

  /** A build at the current position, with the notifier mark taken before reading it. */
  private async buildNow(opts: SyncOptions): Promise<{ mark: number; result: SyncResult }> {
    const mark = this.notifier.mark();
    const current = this.currentTokenNow() ?? (await this.currentToken());
    const since = opts.since && clampToken(opts.since, current);
    const result = await this.builder.build({
      viewer: opts.viewer,
      since,
      current,
      filter: opts.filter,
      fullState: opts.fullState,
      toDeviceAck: opts.toDeviceAck,
    });
    return { mark, result };
  }

  /** The response as an object (in-process callers; the transports send `syncResult`'s text). */
  async sync(opts: SyncOptions): Promise<JsonObject> {
    return (await this.syncResult(opts)).response.object();
  }

  /** The response, whether it is empty (the wait ended without news), and its `next_batch` position. */
  async syncResult(opts: SyncOptions): Promise<{ response: SyncResponse; empty: boolean; next: SyncToken }> {
    const deadline = this.now() + Math.max(0, opts.timeoutMs);
    // Only an incremental sync with nothing to say waits; initial and full_state syncs answer at once.
    const mayWait = opts.since !== undefined && !opts.fullState;
    // Caught up (the wait right after every delivery): no build, so no turn to wait for either.
    // Otherwise incremental builds take turns (see build-gate.ts); an initial or full-state sync,
    // rare and much longer, does not hold up the woken ones. Once woken, there is news: build.
    let woken = false;
    for (;;) {
      const { mark, result } =
        (mayWait && !woken && this.caughtUp(opts)) || (mayWait ? await this.gate.run(() => this.buildNow(opts)) : await this.buildNow(opts));
      const remaining = deadline - this.now();
      if (!result.empty || !mayWait || remaining <= 0) return result;
      if ((await this.notifier.waitFor(result.wakeKeys, remaining, opts.signal, mark)) === null) return result;
      woken = true;
    }
  }
}
