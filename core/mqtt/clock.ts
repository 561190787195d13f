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
  clearTimeout: (handle) => clearTimeout(handle as number),
};
