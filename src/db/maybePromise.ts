// Owns values that are ready now or later: the hot path of a SQLite composite is synchronous work
// behind promise-shaped APIs, and a value that is already known is handed on without an await.

export type MaybePromise<T> = T | Promise<T>;

/** `f(value)` now if the value is ready, else when it is (a promise `f` returns is flattened, as by `then`). */
export function thenOrNow<T, U>(value: MaybePromise<T>, f: (v: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}
