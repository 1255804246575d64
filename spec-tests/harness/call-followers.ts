/**
 * How a call party learns of room events: a /sync long-poll loop or a WebSocket sync connection
 * (org.comet.ws, docs/websocket-sync.md). Both record every timeline event with the moment it
 * arrived and answer waits on what they have seen; the WebSocket one also sends on its socket, so
 * a party can do all its signalling over one transport.
 */
import { api, type TestUser } from './client.js';
import type { TestServer } from './server.js';
import { type Frame, WsSyncClient } from './ws-client.js';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

export interface Seen {
  roomId: string;
  event: Json;
  /** performance.now() when the sync response or frame carrying it arrived. */
  at: number;
}

export interface EventFollower {
  readonly user: TestUser;
  /** The first event (seen so far or later) matching `pred`; fails after `timeoutMs`. */
  waitFor(what: string, pred: (e: Json, roomId: string) => boolean, timeoutMs?: number): Promise<Seen>;
  /** Sends a room event over this follower's own transport, if it has one (else the caller uses HTTP). */
  send?(roomId: string, type: string, content: Json, txnId: string): Promise<string>;
  stop(): Promise<void>;
}

/** The recording and waiting both transports share. */
abstract class Recorder {
  private readonly seen: Seen[] = [];
  private readonly waiters = new Set<() => void>();
  protected failure: Error | undefined;

  constructor(readonly user: TestUser) {}

  protected record(body: Json): void {
    const at = performance.now();
    for (const [roomId, room] of Object.entries<Json>(body.rooms?.join ?? {})) {
      for (const event of room.timeline?.events ?? []) this.seen.push({ roomId, event, at });
    }
  }

  protected wake(): void {
    for (const w of [...this.waiters]) w();
  }

  waitFor(what: string, pred: (e: Json, roomId: string) => boolean, timeoutMs = 20_000): Promise<Seen> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) return finish(() => reject(this.failure));
        const hit = this.seen.find((s) => pred(s.event, s.roomId));
        if (hit) finish(() => resolve(hit));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.user.userId}: timed out waiting for ${what}`))), timeoutMs);
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        fn();
      };
      this.waiters.add(check);
      check();
    });
  }
}

/** A user's /sync long-poll loop. */
export class SyncFollower extends Recorder implements EventFollower {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    readonly server: TestServer,
    user: TestUser,
  ) {
    super(user);
  }

  /** Starts following from now (the first response only sets the position). */
  async start(): Promise<void> {
    const first = await this.sync(undefined, 0);
    this.running = this.loop(first.next_batch);
  }

  private async sync(since: string | undefined, timeout: number): Promise<Json> {
    const url = new URL('/_matrix/client/v3/sync', this.server.baseUrl);
    if (since !== undefined) url.searchParams.set('since', since);
    url.searchParams.set('timeout', String(timeout));
    const res = await fetch(url, { headers: { authorization: `Bearer ${this.user.accessToken}` }, signal: this.abort.signal });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`sync ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  private async loop(since: string): Promise<void> {
    let token = since;
    while (!this.abort.signal.aborted) {
      try {
        const body = await this.sync(token, 10_000);
        this.record(body);
        token = body.next_batch;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.failure = err as Error;
      }
      this.wake();
      if (this.failure) return;
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}

/** A user's WebSocket sync connection; its sends go over the same socket as `send` request frames. */
export class WsFollower extends Recorder implements EventFollower {
  private client: WsSyncClient | undefined;
  /** How many sync frames have arrived (the first is the catch-up delta from the start position). */
  syncFrames = 0;
  /** The event types sent on the socket and acknowledged there. */
  readonly sent: string[] = [];

  constructor(
    readonly server: TestServer,
    user: TestUser,
  ) {
    super(user);
  }

  /** Starts following from now: the socket resumes from the position of a /sync taken here. */
  async start(): Promise<void> {
    const first = await api(this.server, 'GET', '/_matrix/client/v3/sync', { token: this.user.accessToken, query: { timeout: '0' } });
    if (first.status !== 200) throw new Error(`sync ${first.status} ${JSON.stringify(first.body)}`);
    const client = await WsSyncClient.connect(this.server.baseUrl, {
      token: this.user.accessToken,
      // Every event of a busy call pushed, never a limited timeline.
      query: { since: first.body.next_batch, filter: JSON.stringify({ room: { timeline: { limit: 100 } } }) },
    });
    client.onFrame((frame: Frame) => {
      if (frame.type === 'sync') {
        this.syncFrames++;
        this.record(frame.body);
      } else if (frame.type === 'error' && frame.request_id === null) {
        this.failure = new Error(`ws error frame ${JSON.stringify(frame)}`);
      }
      this.wake();
    });
    void client.closed.then(({ code, reason }) => {
      if (this.client === undefined) return;
      this.failure ??= new Error(`ws closed ${code} ${reason}`);
      this.wake();
    });
    this.client = client;
  }

  async send(roomId: string, type: string, content: Json, txnId: string): Promise<string> {
    if (!this.client) throw new Error('not started');
    const res = await this.client.request({ type: 'send', room_id: roomId, event_type: type, content, txn_id: txnId });
    if (res.type !== 'result') throw new Error(`ws send ${type}: ${JSON.stringify(res)}`);
    this.sent.push(type);
    return res.body.event_id;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }
}
