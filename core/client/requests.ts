/**
 * The correlation table for requests answered by id (attribute requests,
 * client-side RPC): id allocation that never repeats a pending id and never
 * resets, one timeout per request, abort through an `AbortSignal`.
 *
 * @module
 */

import { abortError, timeoutError } from "../mqtt/_dom_errors.ts";
import { MAX_REQUEST_ID } from "./topics.ts";

/** Longest delay `setTimeout` honours, ms. */
const MAX_TIMER = 2_147_483_647;

/**
 * Checks a request timeout given by the user.
 *
 * @param timeout Milliseconds (`Infinity` for none).
 * @param what Start of the error message, e.g. `Cannot request attributes`.
 * @returns The timeout.
 * @throws {RangeError} unless it is a positive number.
 */
export function checkTimeout(timeout: unknown, what: string): number {
  if (typeof timeout !== "number" || !(timeout > 0)) {
    throw new RangeError(
      `${what}: timeout must be a positive number of milliseconds, got ${String(timeout)}`,
    );
  }
  return timeout;
}

/**
 * The timer functions the table uses; injected by tests.
 *
 * @example
 * ```ts
 * import type { Timers } from "./requests.ts";
 * const timers: Timers = {
 *   setTimeout: (fn, ms) => setTimeout(fn, ms),
 *   clearTimeout: (h) => clearTimeout(h as number),
 * };
 * ```
 */
export interface Timers {
  /** Calls `fn` after `ms` milliseconds; returns a handle. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer. */
  clearTimeout(handle: unknown): void;
}

/** The global timers. */
export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** How one request waits. */
export interface WaitOptions {
  /** Milliseconds until the request fails with a `TimeoutError`; `Infinity` waits for ever. */
  timeout: number;
  /** Aborts the wait. */
  signal?: AbortSignal | undefined;
  /** Start of the error messages, e.g. `Cannot request attributes`. */
  what: string;
}

interface Pending<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  timer: unknown;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Pending requests by id.
 *
 * @typeParam T What a response resolves to.
 */
export class RequestTable<T> {
  #next = 1;
  #nextHigh = MAX_REQUEST_ID;
  #pending = new Map<number, Pending<T>>();
  #timers: Timers;

  /**
   * Creates an empty table.
   *
   * @param timers Timer functions.
   * @param firstId The first id to allocate (tests start near the wrap).
   */
  constructor(timers: Timers = defaultTimers, firstId = 1) {
    this.#timers = timers;
    this.#next = firstId;
  }

  /** Number of requests waiting for a response. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Allocates the next id: counting up from 1 for the life of the table,
   * wrapping after 2,147,483,647 (ThingsBoard parses ids as Java `int`) and
   * skipping ids still pending.
   *
   * @returns A fresh id.
   */
  allocate(): number {
    for (;;) {
      const id = this.#next;
      this.#next = id >= MAX_REQUEST_ID ? 1 : id + 1;
      if (!this.#pending.has(id)) return id;
    }
  }

  /**
   * Allocates an id for the client's own requests (`getSessionLimits`),
   * counting down from 2,147,483,647, so that the user's requests keep
   * their ids 1, 2, 3… as in ThingsBoard's other SDKs.
   *
   * @returns A fresh id.
   */
  allocateOwn(): number {
    for (;;) {
      const id = this.#nextHigh;
      this.#nextHigh = id <= 1 ? MAX_REQUEST_ID : id - 1;
      if (!this.#pending.has(id)) return id;
    }
  }

  /**
   * Registers `id` and returns the Promise of its response.
   *
   * @param id An id from {@linkcode RequestTable.allocate}.
   * @param options Timeout, signal and message prefix.
   * @returns Resolves with the response; rejects with a `TimeoutError`
   * `DOMException`, the signal's reason, or what {@linkcode RequestTable.reject} passes.
   */
  wait(id: number, options: WaitOptions): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const { signal } = options;
    if (signal?.aborted) {
      reject(abortError(`${options.what}: aborted`, signal));
      return promise;
    }
    const entry: Pending<T> = {
      resolve,
      reject,
      signal,
      onAbort: undefined,
      // Timers fire at once beyond 2^31-1 ms: anything that long waits for ever.
      timer: options.timeout > MAX_TIMER ? undefined : this.#timers.setTimeout(() => {
        this.reject(id, timeoutError(`${options.what}: no response within ${options.timeout} ms`));
      }, options.timeout),
    };
    if (signal) {
      entry.onAbort = () => this.reject(id, abortError(`${options.what}: aborted`, signal));
      signal.addEventListener("abort", entry.onAbort, { once: true });
    }
    this.#pending.set(id, entry);
    return promise;
  }

  /**
   * Whether `id` is waiting for a response.
   *
   * @param id The id.
   * @returns `true` if pending.
   */
  has(id: number): boolean {
    return this.#pending.has(id);
  }

  /**
   * Settles `id` with a response.
   *
   * @param id The id from the response topic.
   * @param value The response.
   * @returns `false` when nothing waits for `id` (late or unknown response).
   */
  resolve(id: number, value: T): boolean {
    const entry = this.#take(id);
    entry?.resolve(value);
    return entry !== undefined;
  }

  /**
   * Fails `id`.
   *
   * @param id The id.
   * @param error The rejection reason.
   * @returns `false` when nothing waits for `id`.
   */
  reject(id: number, error: unknown): boolean {
    const entry = this.#take(id);
    entry?.reject(error);
    return entry !== undefined;
  }

  /**
   * Fails every pending request (the client is closing).
   *
   * @param error The rejection reason.
   */
  rejectAll(error: unknown): void {
    for (const id of [...this.#pending.keys()]) this.reject(id, error);
  }

  #take(id: number): Pending<T> | undefined {
    const entry = this.#pending.get(id);
    if (!entry) return undefined;
    this.#pending.delete(id);
    if (entry.timer !== undefined) this.#timers.clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal?.removeEventListener("abort", entry.onAbort);
    return entry;
  }
}

/**
 * Waits for `promise` to settle (whatever its outcome), or rejects with the
 * signal's reason when `signal` aborts first.
 *
 * @param promise What to wait for.
 * @param signal Stops waiting.
 */
export function waitFor(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  const settled = promise.then(() => {}, () => {});
  if (!signal) return settled;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    settled.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
