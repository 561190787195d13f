/**
 * Injectable time source and timers, so keepalive, timeouts and backoff can
 * be tested with a fake clock and no real sleeps.
 *
 * @module
 */

/**
 * Opaque handle of a timer created by a {@linkcode Clock}.
 *
 * @example
 * ```ts
 * import { realClock, type TimerHandle } from "./clock.ts";
 * const h: TimerHandle = realClock.setTimeout(() => {}, 10);
 * realClock.clearTimeout(h);
 * ```
 */
export type TimerHandle = unknown;

/**
 * A monotonic clock with one-shot timers.
 *
 * @example A clock that logs every timer
 * ```ts
 * import { realClock, type Clock } from "./clock.ts";
 * const logging: Clock = {
 *   now: () => realClock.now(),
 *   setTimeout: (fn, ms) => { console.log(`timer ${ms} ms`); return realClock.setTimeout(fn, ms); },
 *   clearTimeout: (h) => realClock.clearTimeout(h),
 * };
 * ```
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never goes backwards. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Calls `fn` once after the shortest wait the runtime's timers offer, and
   * returns a handle for {@linkcode Clock.clearTimeout}. The client uses it to
   * batch writes: a pause long enough to gather work, short enough that a
   * busy server never runs dry. Optional: without it, `setTimeout(fn, 0)`.
   */
  defer?(fn: () => void): TimerHandle;
}

/**
 * The real clock: `performance.now()` and the global timers.
 *
 * @example
 * ```ts
 * import { realClock } from "./clock.ts";
 * const start = realClock.now();
 * ```
 */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    if (handle instanceof ShortWait) handle.cancel();
    else clearTimeout(handle as number);
  },
  defer: (fn) => deferWith(globalThis.Atomics, fn),
};

/**
 * Calls `fn` after `clock.defer`, or `clock.setTimeout(fn, 0)` when the clock has none.
 *
 * @example
 * ```ts
 * import { defer, realClock } from "./clock.ts";
 * await new Promise<void>((resolve) => defer(realClock, resolve));
 * ```
 *
 * @param clock The clock whose timers to use.
 * @param fn Called once, unless the handle is cleared first.
 * @returns A handle for `clock.clearTimeout`.
 */
export function defer(clock: Clock, fn: () => void): TimerHandle {
  return clock.defer ? clock.defer(fn) : clock.setTimeout(fn, 0);
}

/** A pending short wait: fires once, by whichever of its two timers comes first. */
class ShortWait {
  #fn: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout>;

  constructor(fn: () => void) {
    this.#fn = fn;
    this.#timer = setTimeout(() => this.fire(), 0);
  }

  fire(): void {
    const fn = this.#fn;
    if (fn === undefined) return;
    this.cancel();
    fn();
  }

  cancel(): void {
    this.#fn = undefined;
    clearTimeout(this.#timer);
  }
}

/** The `Atomics` function a short wait needs (`waitAsync` is missing from some runtimes). */
export interface AtomicsLike {
  waitAsync?: (
    cell: Int32Array,
    index: number,
    value: number,
    timeout: number,
  ) => { async: boolean; value: unknown };
}

const CELL = new Int32Array(new SharedArrayBuffer(4));

/**
 * The shortest wait Deno offers without a thread: a timed-out
 * `Atomics.waitAsync` on a cell nobody notifies fires after about 1.1 ms,
 * where `setTimeout(fn, 0)` takes about 2.1 ms (medians on Deno 2.9.6; any
 * timeout below 0.5 ms gives the same 1.1 ms, the smallest the most
 * regularly). A `setTimeout(fn, 0)` runs beside it, so that the wait keeps
 * the process alive as a timer does, and still ends where `waitAsync` is
 * missing; whichever fires first calls `fn`, and the other then does nothing.
 *
 * @example
 * ```ts
 * import { deferWith, realClock } from "./clock.ts";
 * const handle = deferWith(Atomics, () => console.log("about 1 ms later"));
 * realClock.clearTimeout(handle); // changed our mind
 * ```
 *
 * @param atomics Where to find `waitAsync` (`Atomics`; tests pass others).
 * @param fn Called once, unless the handle is cleared first.
 * @returns A handle for {@linkcode realClock}`.clearTimeout`.
 */
export function deferWith(atomics: AtomicsLike, fn: () => void): TimerHandle {
  const handle = new ShortWait(fn);
  const wait = atomics.waitAsync?.(CELL, 0, 0, 0.001);
  if (wait?.async) (wait.value as Promise<unknown>).then(() => handle.fire());
  return handle;
}
