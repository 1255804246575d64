/**
 * Wake-ups for one real-time stream, sent in batches. In a busy room every typing change, receipt or
 * presence change would otherwise wake every member's sync on its own; batched over a few tens of
 * milliseconds, each member gets one delta per batch carrying all of them.
 *
 * The stream's position moves when the change is made, and so does the notifier's mark (a
 * notification with no keys wakes nobody): a sync started afterwards, the author's own included,
 * reads the new position at once. Only the waiting syncs wait for the batch.
 */
import type { Notifier, StreamName } from '../notifier.js';

export class CoalescedWake {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly notifier: Notifier,
    private readonly stream: StreamName,
    /** The batching window; 0 notifies every change at once. */
    private readonly windowMs: number,
  ) {}

  /** The stream moved for these keys (rooms, users). */
  changed(keys: Iterable<string>): void {
    if (this.windowMs <= 0) {
      this.notifier.notify(this.stream, keys);
      return;
    }
    this.notifier.notify(this.stream, []);
    for (const k of keys) this.pending.add(k);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private flush(): void {
    this.timer = undefined;
    const keys = [...this.pending];
    this.pending.clear();
    this.notifier.notify(this.stream, keys);
  }
}
