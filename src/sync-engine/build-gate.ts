/**
 * Lets a bounded number of sync builds run at once; the rest wait their turn in arrival order.
 *
 * Why: one event wakes every member of its room together. Unbounded, their builds interleave at
 * every await, so each response goes out only when nearly all are done, and everything all of
 * them allocated is alive at once (a young-generation collection then copies it all, and much of
 * it survives into the old generation). In small waves the first responses leave at once and
 * each build's garbage dies young. Builds do not wait on one another, so a queue cannot deadlock.
 */
/** How long queued builds may run back to back before other work gets a turn. */
const YIELD_EVERY_MS = 1;

export class BuildGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private head = 0;
  private lastYield = 0;

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Hands the slot straight to the next waiter (running stays the same), or frees it. */
  private release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head++];
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      // Queued builds would otherwise follow each other in one unbroken run of microtasks, and
      // nothing else (the next message's send, a new long poll) could be read until all were done.
      const now = performance.now();
      if (now - this.lastYield >= YIELD_EVERY_MS) {
        this.lastYield = now;
        setImmediate(next);
      } else {
        next();
      }
    } else {
      this.running--;
    }
  }
}
