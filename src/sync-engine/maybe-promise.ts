/**
 * A value that is usually known already (a memo hit) and only sometimes must be read. Every member
 * woken by a message builds a sync; awaiting values that are already there costs each build a
 * promise and a turn of the microtask queue per step, and what those allocate is a good part of a
 * woken build's garbage. Hot paths return the value itself when they have it, and callers write
 * `const v = isPromise(m) ? await m : m`.
 */
export type MaybePromise<T> = T | Promise<T>;

export function isPromise<T>(m: MaybePromise<T>): m is Promise<T> {
  return m instanceof Promise;
}

/** A promise that also keeps its value once it has one, to hand out without a promise from then on. */
export class Settling<T> {
  private value: T | undefined;
  private settled = false;

  constructor(
    readonly promise: Promise<T>,
    onError?: () => void,
  ) {
    promise.then(
      (value) => {
        this.value = value;
        this.settled = true;
      },
      () => onError?.(),
    );
  }

  /** The value if there is one already, else the promise. */
  get(): MaybePromise<T> {
    return this.settled ? (this.value as T) : this.promise;
  }

  /** The value if there is one already. */
  known(): T | undefined {
    return this.value;
  }
}
