/**
 * Fire-and-forget subscriptions for local changes on the real-time streams. The federation sender
 * subscribes here to turn local typing, receipts, presence, to-device messages and device-list
 * changes into EDUs; a failing listener must not fail (or slow down) the client request that
 * caused the change, so errors go to `onError` and the other listeners still run.
 */
export class Listeners<A extends unknown[]> {
  private readonly list: Array<(...args: A) => void> = [];

  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  /** Subscribes; returns the unsubscribe function. */
  on(listener: (...args: A) => void): () => void {
    this.list.push(listener);
    return () => {
      const i = this.list.indexOf(listener);
      if (i >= 0) this.list.splice(i, 1);
    };
  }

  emit(...args: A): void {
    for (const l of [...this.list]) {
      try {
        l(...args);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
