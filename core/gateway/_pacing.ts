/**
 * Pacing of the traffic of devices behind the gateway by ThingsBoard's
 * `gatewayRateLimits` (reported with the session limits), at 80 % as the
 * device client paces its own. ThingsBoard answers a sub-device message
 * over those limits with PUBACK 0x97 and closes the whole gateway
 * connection. Private.
 *
 * @module
 */

import type { Clock, Logger } from "../mqtt/mod.ts";
import { RateLimiter } from "../client/ratelimit.ts";
import { defaultTimers } from "../client/requests.ts";
import type { SessionLimits } from "../client/limits.ts";

/** Paces sub-device messages once the gateway's limits are known. */
export class Pacer {
  #limiter: RateLimiter | undefined;
  #enabled: boolean;
  #clock: Clock | undefined;
  #now: () => number;
  #logger: Logger;
  #sleeps = new Set<(error: Error) => void>();

  /**
   * Creates a pacer that does nothing until limits arrive.
   *
   * @param enabled The client's `rateLimits` option.
   * @param clock Injected clock, if any.
   * @param logger Diagnostics.
   */
  constructor(enabled: boolean, clock: Clock | undefined, logger: Logger) {
    this.#enabled = enabled;
    this.#clock = clock;
    this.#now = clock ? () => clock.now() : () => performance.now();
    this.#logger = logger;
  }

  /** Whether limits are being applied. */
  get active(): boolean {
    return this.#limiter !== undefined;
  }

  /**
   * Applies the gateway's limits from ThingsBoard's session limits (the
   * `sessionlimits` event); without `gatewayRateLimits` nothing changes.
   *
   * @param limits The parsed `getSessionLimits` answer.
   */
  apply(limits: SessionLimits): void {
    const specs = limits.gatewayRateLimits;
    if (!this.#enabled || specs === undefined) return;
    this.#limiter = new RateLimiter(specs, this.#now(), this.#limiter); // keeps unchanged buckets
    this.#logger.debug("Pacing devices behind the gateway by ThingsBoard's gateway rate limits", {
      ...specs,
    });
  }

  /**
   * Waits until one more message fits the limits.
   *
   * @param dataPoints Data points of telemetry/attributes, `undefined` for other messages.
   * @param signal Stops waiting.
   */
  async wait(dataPoints: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    const ms = this.#limiter?.reserve(dataPoints, this.#now()) ?? 0;
    if (ms <= 0) return;
    this.#logger.debug("Pacing by ThingsBoard's gateway rate limits", { wait: ms });
    const timers = this.#clock ?? defaultTimers;
    await new Promise<void>((resolve, reject) => {
      signal?.throwIfAborted();
      const done = (error?: Error) => {
        this.#sleeps.delete(done);
        timers.clearTimeout(timer as number);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => done(signal?.reason as Error);
      const timer = timers.setTimeout(() => done(), ms);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleeps.add(done);
    });
  }

  /**
   * Fails every wait (the client is closing).
   *
   * @param error The rejection reason.
   */
  close(error: Error): void {
    for (const done of [...this.#sleeps]) done(error);
  }
}
