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
