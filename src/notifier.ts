/**
 * Wakes long-polling readers (/sync now, WebSocket sync later) when a stream changes.
 *
 * Writers call `notify(stream, keys)` after their write commits, naming the keys affected: room
 * IDs for room events, user IDs for per-user streams (account data, to-device, the target of a
 * membership change, so an invite wakes the invitee who is not yet in the room). Readers wait on
 * the keys relevant to them: their user ID and the rooms they are in.
 *
 * No lost wake-ups: a reader takes `mark()` BEFORE reading storage and passes it to `waitFor`;
 * a notification for one of its keys after the mark resolves the wait at once, so a write that
 * committed between the read and the wait is never slept through.
 *
 * Transport: notifications travel through a `NotifierTransport`. In one process it loops back
 * synchronously; a multi-process deployment substitutes one that publishes to the other processes
 * (e.g. PostgreSQL LISTEN/NOTIFY) and feeds what they publish into `deliver`. Readers and writers
 * never see the difference.
 */
export type StreamName = 'account_data' | 'events' | 'to_device' | 'typing' | 'receipts' | 'presence' | 'device_lists';

export interface StreamChange {
  stream: StreamName;
  keys: readonly string[];
}

export interface Notifier {
  notify(stream: StreamName, keys: Iterable<string>): void;
  /** An opaque point in this notifier's history, to pass to `waitFor` as `since`. */
  mark(): number;
  /**
   * Resolves with the stream that changed for one of `keys` (after `since`, if given, else from
   * now on), or null after `timeoutMs`, on `signal` abort, or when the notifier closes (shutdown).
   * `timeoutMs` may be Infinity (WebSocket sync): no timer is armed, only a change or the signal ends it.
   */
  waitFor(keys: Iterable<string>, timeoutMs: number, signal?: WaitSignal, since?: number): Promise<StreamName | null>;
  /** Releases every waiter (with null) and makes later waits return at once. */
  close(): void;
}

/** Carries changes between the processes sharing a database. */
export interface NotifierTransport {
  /** Sends a change to every process, this one included (it arrives through the subscriber). */
  publish(change: StreamChange): void;
  subscribe(deliver: (change: StreamChange) => void): void;
  close(): void;
}

/** The single-process transport: delivers synchronously to this process. */
export class LoopbackTransport implements NotifierTransport {
  private deliver: ((change: StreamChange) => void) | undefined;
  publish(change: StreamChange): void {
    this.deliver?.(change);
  }
  subscribe(deliver: (change: StreamChange) => void): void {
    this.deliver = deliver;
  }
  close(): void {
    this.deliver = undefined;
  }
}

/**
 * What ends a wait early (a client going away). An AbortSignal is one; long polls and WebSocket
 * connections use the lighter WaitAborter below, as an AbortController showed up in their profile.
 */
export interface WaitSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A WaitSignal without EventTarget's machinery, for what aborts often or waits often: a WebSocket
 * connection adds and removes a listener for every delivery, a long poll makes one per request.
 */
export class WaitAborter implements WaitSignal {
  aborted = false;
  private listeners: Array<() => void> = [];

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const listener of this.listeners.splice(0)) listener();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i !== -1) this.listeners.splice(i, 1);
  }
}

type Waiter = (stream: StreamName | null) => void;

export class InProcessNotifier implements Notifier {
  /**
   * Per key, its waiters: one waiter alone (a user's own key, a quiet room), else a set. Every
   * delivery re-registers its reader, so a set made and dropped per wait showed in profiles.
   */
  private readonly waiters = new Map<string, Waiter | Set<Waiter>>();
  /** Per key: the sequence number and stream of the latest change delivered for it. */
  private readonly last = new Map<string, { seq: number; stream: StreamName }>();
  /**
   * `last` is kept in order of change and bounded: when it grows past maxKeys the oldest half is
   * forgotten, and this is the newest sequence number forgotten. A wait from a mark at or before it
   * cannot know whether its keys changed since, so it returns at once (a spurious wake-up only
   * costs the reader a rebuild; a lost one would leave it asleep).
   */
  private horizon = 0;
  private seq = 0;
  private closed = false;

  constructor(
    private readonly transport: NotifierTransport = new LoopbackTransport(),
    private readonly maxKeys = 200_000,
  ) {
    transport.subscribe((change) => this.deliver(change));
  }

  notify(stream: StreamName, keys: Iterable<string>): void {
    if (this.closed) return;
    this.transport.publish({ stream, keys: [...keys] });
  }

  mark(): number {
    return this.seq;
  }

  /** A change from the transport: record it and wake the waiters on its keys. */
  private deliver(change: StreamChange): void {
    const seq = ++this.seq;
    // A snapshot (waking removes waiters from these sets). A waiter on several of the keys is
    // listed more than once; waking it again does nothing.
    const woken: Waiter[] = [];
    for (const key of change.keys) {
      this.last.delete(key);
      this.last.set(key, { seq, stream: change.stream });
      const w = this.waiters.get(key);
      if (typeof w === 'function') woken.push(w);
      else if (w) for (const each of w) woken.push(each);
    }
    if (this.last.size > this.maxKeys) this.forgetOldest();
    for (const w of woken) w(change.stream);
  }

  waitFor(keys: Iterable<string>, timeoutMs: number, signal?: WaitSignal, since?: number): Promise<StreamName | null> {
    if (this.closed || signal?.aborted) return Promise.resolve(null);
    // Duplicates need no removing: a waiter is added to a key's set once, and woken once.
    const keyList = Array.isArray(keys) ? (keys as readonly string[]) : [...keys];
    if (since !== undefined) {
      if (since < this.horizon) return Promise.resolve('events');
      for (const key of keyList) {
        const l = this.last.get(key);
        if (l && l.seq > since) return Promise.resolve(l.stream);
      }
    }
    return new Promise((resolve) => {
      let done = false;
      const finish: Waiter = (stream) => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        for (const key of keyList) this.remove(key, finish);
        resolve(stream);
      };
      const onAbort = () => finish(null);
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(null), Math.max(0, timeoutMs)) : undefined;
      signal?.addEventListener('abort', onAbort);
      for (const key of keyList) this.add(key, finish);
    });
  }

  private add(key: string, w: Waiter): void {
    const current = this.waiters.get(key);
    if (current === undefined) this.waiters.set(key, w);
    else if (typeof current === 'function') {
      if (current !== w) this.waiters.set(key, new Set([current, w]));
    } else current.add(w);
  }

  private remove(key: string, w: Waiter): void {
    const current = this.waiters.get(key);
    if (current === w) this.waiters.delete(key);
    else if (current !== undefined && typeof current !== 'function') {
      current.delete(w);
      if (current.size === 0) this.waiters.delete(key);
    }
  }

  private forgetOldest(): void {
    for (const [key, l] of this.last) {
      if (this.last.size <= this.maxKeys / 2) break;
      this.last.delete(key);
      this.horizon = l.seq;
    }
  }

  close(): void {
    this.closed = true;
    this.transport.close();
    const all: Waiter[] = [];
    for (const w of this.waiters.values()) {
      if (typeof w === 'function') all.push(w);
      else all.push(...w);
    }
    for (const w of all) w(null);
  }
}

/** The keys a persisted room event wakes: its room, and the target of a membership change. */
export function roomEventKeys(event: { roomId: string; type: string; stateKey: string | undefined }): string[] {
  const keys = [event.roomId];
  if (event.type === 'm.room.member' && event.stateKey !== undefined) keys.push(event.stateKey);
  return keys;
}
