/**
 * Rate-limit enforcement like ThingsBoard's `DefaultTransportRateLimitService`:
 * `"capacity:seconds,…"` strings become greedy token buckets per device;
 * telemetry and attribute messages take one telemetry-message token plus one
 * data-point token per value, every other message one message token.
 *
 * @module
 */

import { RateLimit } from "../core/client/ratelimit.ts";
import type { RateLimits } from "./types.ts";

/**
 * Parses a limit string (`"200:1,6000:60"`); `null` means no limit.
 *
 * @throws {RangeError} If the string is not a list of `capacity:seconds` pairs of positive integers.
 */
export function parseRateLimit(name: string, spec: string | null): [number, number][] {
  if (spec === null) return [];
  return spec.split(",").map((part) => {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    const capacity = Number(m?.[1]);
    const seconds = Number(m?.[2]);
    if (!m || capacity < 1 || seconds < 1) {
      throw new RangeError(
        `Cannot start emulator: rateLimits.${name} must look like "200:1,6000:60", got "${spec}"`,
      );
    }
    return [capacity, seconds] as [number, number];
  });
}

/** The three limits of one device. */
export class DeviceRateLimits {
  #messages: RateLimit;
  #telemetryMessages: RateLimit;
  #telemetryDataPoints: RateLimit;

  /** @param limits Already validated limit strings. */
  constructor(limits: RateLimits, now: number = Date.now()) {
    this.#messages = new RateLimit(parseRateLimit("messages", limits.messages), now);
    this.#telemetryMessages = new RateLimit(
      parseRateLimit("telemetryMessages", limits.telemetryMessages),
      now,
    );
    this.#telemetryDataPoints = new RateLimit(
      parseRateLimit("telemetryDataPoints", limits.telemetryDataPoints),
      now,
    );
  }

  /**
   * Admits a telemetry or attribute message of `dataPoints` values.
   *
   * @returns `undefined` when it passes, else the limit it broke.
   */
  telemetry(dataPoints: number, now: number = Date.now()): keyof RateLimits | undefined {
    if (!this.#telemetryMessages.tryTake(1, now)) return "telemetryMessages";
    if (!this.#telemetryDataPoints.tryTake(dataPoints, now)) return "telemetryDataPoints";
    return undefined;
  }

  /**
   * Admits any other message.
   *
   * @returns `undefined` when it passes, else `"messages"`.
   */
  message(now: number = Date.now()): keyof RateLimits | undefined {
    return this.#messages.tryTake(1, now) ? undefined : "messages";
  }
}
