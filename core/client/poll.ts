/**
 * The inbox of `dispatch: "poll"`: inbound messages wait here until the
 * application calls `checkForMsg()` or `waitForMsg()`.
 *
 * @module
 */

import { defaultTimers, type Timers } from "./requests.ts";

/**
 * Options of {@linkcode TBDeviceMqttClient.waitForMsg}.
 *
 * @example
 * ```ts
 * import type { WaitForMsgOptions } from "@tbwasm/sdk";
 * const o: WaitForMsgOptions = { timeout: 1000 };
 * ```
 */
export interface WaitForMsgOptions {
  /** Give up after this many milliseconds and return 0. @default {Infinity} */
  timeout?: number;
  /** Aborts the wait (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** A bounded FIFO of dispatch tasks. */
export class Inbox {
  #tasks: Array<() => void> = [];
  #maxSize: number;
  #onDrop: (dropped: number) => void;
  #waiters = new Set<() => void>();
  #timers: Timers;

  /**
   * Creates an empty inbox.
   *
   * @param maxSize Capacity; when full, the oldest task is dropped.
   * @param onDrop Told when a task was dropped (with the running count).
   * @param timers Timer functions.
   */
  constructor(maxSize: number, onDrop: (dropped: number) => void, timers: Timers = defaultTimers) {
    this.#maxSize = maxSize;
    this.#onDrop = onDrop;
    this.#timers = timers;
  }

  /** Number of queued tasks. */
  get size(): number {
    return this.#tasks.length;
  }

  /**
   * Queues a task and wakes the waiters.
   *
   * @param task Runs the callbacks of one message; must not throw.
   */
  push(task: () => void): void {
    if (this.#tasks.length >= this.#maxSize) {
      this.#tasks.shift();
      this.#onDrop(1);
    }
    this.#tasks.push(task);
    this.#wake();
  }

  /**
   * Runs every queued task, oldest first.
   *
   * @returns How many ran.
   */
  drain(): number {
    const tasks = this.#tasks;
    this.#tasks = [];
    for (const task of tasks) task();
    return tasks.length;
  }

  /**
   * Waits until something is queued (or `close()`), then drains.
   *
   * @param options Timeout and signal.
   * @returns How many tasks ran (0 after a timeout or `close()`).
   */
  async wait(options: WaitForMsgOptions = {}): Promise<number> {
    const { signal, timeout = Infinity } = options;
    signal?.throwIfAborted();
    if (this.#tasks.length === 0) {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      const wake = () => resolve();
      const onAbort = () => reject(signal?.reason);
      let timer: unknown;
      // Timers fire at once beyond 2^31-1 ms: anything that long waits for ever.
      if (timeout <= 2_147_483_647) timer = this.#timers.setTimeout(wake, Math.max(0, timeout));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(wake);
      try {
        await promise;
      } finally {
        this.#waiters.delete(wake);
        if (timer !== undefined) this.#timers.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      }
    }
    return this.drain();
  }

  /** Releases every waiter (the client is closing) and drops queued tasks. */
  close(): void {
    this.#tasks = [];
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }
}
