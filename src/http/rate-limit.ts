/** Token-bucket rate limiting per (action, requester). */
import type { Clock } from '../clock.js';

export interface BucketConfig {
  per_second: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedTs: number;
}

export class RateLimiter<Action extends string = string> {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepTs = 0;

  constructor(
    private readonly config: Readonly<Record<Action, BucketConfig>>,
    private readonly clock: Clock,
  ) {}

  /** Takes one token. Returns 0 when allowed, else the milliseconds until a token is available. */
  take(action: Action, requester: string): number {
    const { per_second: rate, burst } = this.config[action];
    const now = this.clock.now();
    this.sweep(now);
    const key = `${action}\u0000${requester}`;
    const b = this.buckets.get(key) ?? { tokens: burst, updatedTs: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.updatedTs) / 1000) * rate);
    b.updatedTs = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / rate) * 1000;
  }

  /** Forgets buckets that have refilled completely, so memory tracks only recent requesters. */
  private sweep(now: number): void {
    if (now - this.lastSweepTs < 60_000) return;
    this.lastSweepTs = now;
    for (const [key, b] of this.buckets) {
      const action = key.slice(0, key.indexOf('\u0000')) as Action;
      const { per_second: rate, burst } = this.config[action];
      if (b.tokens + ((now - b.updatedTs) / 1000) * rate >= burst) this.buckets.delete(key);
    }
  }
}
