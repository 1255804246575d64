/**
 * Wakes long-polling readers (e.g. /sync) when a stream changes. Writers call `notify` after their
 * write commits, naming the keys affected (user IDs, room IDs); readers `waitFor` any of their keys.
 * This in-process version suffices for one server process.
 */
export type StreamName = 'account_data' | 'events' | 'to_device' | 'typing' | 'receipts' | 'presence' | 'device_lists';

export interface Notifier {
  notify(stream: StreamName, keys: Iterable<string>): void;
  /**
   * Resolves with the stream that changed for one of `keys`, or null after `timeoutMs`, on `signal`
   * abort, or when the notifier closes (shutdown).
   */
  waitFor(keys: Iterable<string>, timeoutMs: number, signal?: AbortSignal): Promise<StreamName | null>;
  /** Releases every waiter (with null) and makes later waits return at once. */
  close(): void;
}

type Waiter = (stream: StreamName | null) => void;

export class InProcessNotifier implements Notifier {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private closed = false;

  notify(stream: StreamName, keys: Iterable<string>): void {
    const woken = new Set<Waiter>();
    for (const key of keys) {
      const set = this.waiters.get(key);
      if (set) for (const w of set) woken.add(w);
    }
    for (const w of woken) w(stream);
  }

  waitFor(keys: Iterable<string>, timeoutMs: number, signal?: AbortSignal): Promise<StreamName | null> {
    if (this.closed || signal?.aborted) return Promise.resolve(null);
    const keyList = [...new Set(keys)];
    return new Promise((resolve) => {
      let done = false;
      const finish: Waiter = (stream) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        for (const key of keyList) {
          const set = this.waiters.get(key);
          set?.delete(finish);
          if (set?.size === 0) this.waiters.delete(key);
        }
        resolve(stream);
      };
      const onAbort = () => finish(null);
      const timer = setTimeout(() => finish(null), Math.max(0, timeoutMs));
      signal?.addEventListener('abort', onAbort);
      for (const key of keyList) {
        const set = this.waiters.get(key);
        if (set) set.add(finish);
        else this.waiters.set(key, new Set([finish]));
      }
    });
  }

  close(): void {
    this.closed = true;
    const all = new Set<Waiter>();
    for (const set of this.waiters.values()) for (const w of set) all.add(w);
    for (const w of all) w(null);
  }
}
