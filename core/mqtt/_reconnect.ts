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
const STABLE_CONNECTION = 5_000;
/** MQTT 5 DISCONNECT reason: another connection with the same client id or credentials took over. */
const SESSION_TAKEN_OVER = 0x8e;

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
   * Notes that the connection was lost. A connection that stayed up for 5 s
   * resets the backoff, so a broker that restarts now and then is rejoined
   * after the initial delay each time. A server that accepts and then kicks
   * the client at once gets ever longer pauses instead of a reconnect storm,
   * and so does a session taken over (MQTT 5 reason 0x8E) however long it
   * lasted: a twin with the same credentials is online, and both would
   * otherwise take turns at kicking each other.
   *
   * @param reasonCode The server's DISCONNECT reason code, if it sent one.
   */
  lost(reasonCode?: number): void {
    if (reasonCode === SESSION_TAKEN_OVER) return;
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
