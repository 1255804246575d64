/**
 * One shared timer for many connections: members are spread over `slots` buckets and each tick
 * visits one bucket, so every member is visited once per period and the work of a period (pings,
 * timeouts, expiry checks for thousands of sockets) is spread instead of landing in one burst.
 * Members cost a Set entry each; there is no per-member timer or closure.
 */
export class TickWheel<T> {
  private readonly buckets: Set<T>[];
  private next = 0;
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly periodMs: number,
    private readonly visit: (member: T) => void,
    slots = 10,
  ) {
    this.buckets = Array.from({ length: slots }, () => new Set<T>());
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(this.periodMs / this.buckets.length)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Adds a member; returns its slot, which `remove` needs. */
  add(member: T): number {
    const slot = this.next;
    this.next = (this.next + 1) % this.buckets.length;
    this.buckets[slot].add(member);
    return slot;
  }

  remove(member: T, slot: number): void {
    this.buckets[slot]?.delete(member);
  }

  get size(): number {
    return this.buckets.reduce((n, b) => n + b.size, 0);
  }

  private tick(): void {
    const bucket = this.buckets[this.cursor];
    this.cursor = (this.cursor + 1) % this.buckets.length;
    // Visiting may remove members (closing a connection); iterate over a copy.
    for (const m of [...bucket]) this.visit(m);
  }
}
