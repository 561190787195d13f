/**
 * Keepalive: PINGREQ when the connection is idle, and detection of a dead
 * connection within 1.5 x keepalive.
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";

/**
 * What the keepalive manager asks of its connection.
 *
 * @example
 * ```ts
 * import type { KeepaliveHooks } from "./keepalive.ts";
 * const hooks: KeepaliveHooks = { sendPing: () => {}, onTimeout: () => {} };
 * ```
 */
export interface KeepaliveHooks {
  /** Sends a PINGREQ. */
  sendPing(): void;
  /** Called once when the server stayed silent for too long. */
  onTimeout(): void;
}

/**
 * Keeps one connection alive. The connection reports traffic with
 * {@linkcode markSent} / {@linkcode markReceived} (two assignments, no timer
 * churn per packet); one timer wakes at the next deadline.
 *
 * - A PINGREQ goes out when nothing was sent for 3/4 of the keepalive, so
 *   that even a late timer keeps the gap between packets within the
 *   keepalive [MQTT-3.1.2-20] (3.1.1: [MQTT-3.1.2-23]), or when nothing was
 *   received for 3/4 of it (so a client that only sends QoS 0 still notices
 *   a dead server).
 * - If nothing at all arrives while a PINGREQ is unanswered, the connection
 *   is declared dead 1.5 x keepalive after the last packet from the server.
 *
 * @example
 * ```ts
 * import { KeepaliveManager } from "./keepalive.ts";
 * import { realClock } from "./clock.ts";
 * const ka = new KeepaliveManager(realClock, 60, { sendPing: () => {}, onTimeout: () => {} });
 * ka.start();
 * ka.stop();
 * ```
 */
export class KeepaliveManager {
  #clock: Clock;
  #intervalMs: number;
  #hooks: KeepaliveHooks;
  #timer: TimerHandle | undefined;
  #lastSent = 0;
  #lastReceived = 0;
  #pingSentAt = -1;
  #running = false;

  /**
   * Creates a stopped manager.
   *
   * @param clock Time source and timers.
   * @param keepaliveSeconds Keepalive in seconds; 0 disables keepalive.
   * @param hooks How to ping and how to report a dead connection.
   */
  constructor(clock: Clock, keepaliveSeconds: number, hooks: KeepaliveHooks) {
    this.#clock = clock;
    this.#intervalMs = keepaliveSeconds * 1000;
    this.#hooks = hooks;
  }

  /** Keepalive interval in milliseconds (0 = disabled). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /**
   * Starts watching (after CONNACK).
   *
   * @param keepaliveSeconds Replaces the interval (the server's MQTT 5 Server Keep Alive).
   */
  start(keepaliveSeconds?: number): void {
    if (keepaliveSeconds !== undefined) this.#intervalMs = keepaliveSeconds * 1000;
    const now = this.#clock.now();
    this.#lastSent = now;
    this.#lastReceived = now;
    this.#pingSentAt = -1;
    this.#running = true;
    this.#schedule(now);
  }

  /** Stops watching and clears the timer. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Records that a packet was written. */
  markSent(): void {
    this.#lastSent = this.#clock.now();
  }

  /** Records that a packet arrived (any packet proves the server is alive). */
  markReceived(): void {
    this.#lastReceived = this.#clock.now();
    this.#pingSentAt = -1;
  }

  #schedule(now: number): void {
    if (!this.#running || this.#intervalMs <= 0) return;
    const due = this.#pingSentAt >= 0
      ? this.#lastReceived + this.#intervalMs * 1.5
      : Math.min(this.#lastSent, this.#lastReceived) + this.#intervalMs * 0.75;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), Math.max(0, due - now));
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#clock.now();
    const k = this.#intervalMs;
    if (this.#pingSentAt >= 0) {
      if (now - this.#lastReceived >= k * 1.5) {
        this.#running = false;
        this.#hooks.onTimeout();
        return;
      }
    } else if (now - this.#lastSent >= k * 0.75 || now - this.#lastReceived >= k * 0.75) {
      this.#pingSentAt = now;
      this.#hooks.sendPing();
    }
    this.#schedule(now);
  }
}
