/**
 * One timer for many deadlines (typing expiries, presence idle and offline transitions), so the
 * number of pending timers does not grow with users or connections. Keys are rescheduled by
 * calling `schedule` again; only the latest deadline of a key fires. Entries superseded by a
 * reschedule stay in the heap until they surface and are skipped (compacted when they pile up).
 */
export class DeadlineQueue<K> {
  private readonly due = new Map<K, number>();
  private heap: Array<{ at: number; key: K }> = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly now: () => number,
    private readonly fire: (key: K) => void,
  ) {}

  schedule(key: K, at: number): void {
    if (this.closed) return;
    this.due.set(key, at);
    this.push({ at, key });
    if (this.heap.length > 2 * this.due.size + 64) this.compact();
    this.arm();
  }

  cancel(key: K): void {
    this.due.delete(key);
  }

  /** Fires every due key now (the timer calls this; tests with a fake clock may too). */
  runDue(): void {
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      const { at, key } = this.pop()!;
      if (this.due.get(key) !== at) continue;
      this.due.delete(key);
      this.fire(key);
    }
    this.arm();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
    this.heap = [];
  }

  private arm(): void {
    const next = this.heap[0]?.at ?? Number.POSITIVE_INFINITY;
    if (next === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === Number.POSITIVE_INFINITY || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.runDue();
    }, Math.max(0, next - this.now()));
    this.timer.unref();
  }

  private compact(): void {
    const entries = [...this.due].map(([key, at]) => ({ at, key }));
    this.heap = [];
    for (const e of entries) this.push(e);
  }

  private push(e: { at: number; key: K }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private pop(): { at: number; key: K } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].at < h[m].at) m = l;
        if (r < h.length && h[r].at < h[m].at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
