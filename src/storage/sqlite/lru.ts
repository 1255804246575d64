/**
 * A bounded cache that evicts the least recently used entries, in two generations: hits in the
 * current generation are a plain Map lookup (no delete-and-reinsert per hit, which under a fan-out
 * made Map churn a visible cost); an entry found in the previous generation moves to the current
 * one; when the current one reaches `size`, it becomes the previous one and the old previous is
 * dropped. So it holds at least the `size` most recently used entries, and at most 2 × size.
 */
export class Lru<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly size: number;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  get(k: K): V | undefined {
    const v = this.current.get(k);
    if (v !== undefined) return v;
    const old = this.previous.get(k);
    if (old !== undefined) {
      this.previous.delete(k);
      this.put(k, old);
    }
    return old;
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }

  set(k: K, v: V): void {
    if (this.current.has(k)) {
      this.current.set(k, v);
      return;
    }
    this.previous.delete(k);
    this.put(k, v);
  }

  private put(k: K, v: V): void {
    this.current.set(k, v);
    if (this.current.size >= this.size) {
      this.previous = this.current;
      this.current = new Map();
    }
  }
}
