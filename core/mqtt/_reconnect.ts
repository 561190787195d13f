/**
 * When a session tries again after losing its connection: the backoff
 * delays, the pending reconnect timer, and the rule that only a connection
 * that stayed up starts the backoff again from its initial delay. Private
 * to the client.
 *
 * @module
 */

import { Backoff, type ReconnectOptions } from "./backoff.ts";
import type { Clock, TimerHandle } from "./clock.ts";

/** Milliseconds a connection must last before the reconnect backoff starts again from its initial delay. */
const STABLE_CONNECTION = 30_000;

/** Reconnect delays and the timer of the next attempt. */
export class ReconnectTimer {
  #backoff: Backoff;
  #clock: Clock;
  #timer: TimerHandle | undefined;
  #connectedAt = 0;

  /**
   * @param options Backoff options.
   * @param random Random source for the jitter (`Math.random` if absent).
   * @param clock Timers.
   */
  constructor(options: ReconnectOptions, random: (() => number) | undefined, clock: Clock) {
    this.#backoff = new Backoff(options, random);
    this.#clock = clock;
  }

  /** Notes that a connection was accepted now. */
  connected(): void {
    this.#connectedAt = this.#clock.now();
  }

  /**
   * Notes that the connection was lost. Only a connection that stayed up
   * resets the backoff: a server that accepts and then kicks the client at
   * once (e.g. 0x8E session taken over by a twin with the same credentials)
   * gets ever longer pauses instead of a reconnect storm.
   */
  lost(): void {
    if (this.#clock.now() - this.#connectedAt >= STABLE_CONNECTION) this.#backoff.reset();
  }

  /** @returns The next delay (ms) and the number of the attempt it precedes. */
  next(): { attempt: number; delay: number } {
    const delay = this.#backoff.next();
    return { attempt: this.#backoff.attempt, delay };
  }

  /**
   * Calls `fn` after `delay` ms (unless {@linkcode cancel}led first).
   * @param delay Milliseconds, from {@linkcode next}.
   * @param fn The attempt.
   */
  start(delay: number, fn: () => void): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      fn();
    }, delay);
  }

  /** Cancels a pending attempt. */
  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
