/**
 * Rate-limit enforcement like ThingsBoard's `DefaultTransportRateLimitService`:
 * `"capacity:seconds,…"` strings become greedy token buckets per device;
 * telemetry and attribute messages take one telemetry-message token plus one
 * data-point token per value, every other message one message token.
 *
 * @module
 */

import type { RateLimits } from "./types.ts";

/** One bucket: `capacity` tokens, refilled continuously at `capacity` per `seconds`. */
interface Bucket {
  capacity: number;
  perMs: number;
  tokens: number;
  at: number;
}

/**
 * Parses a limit string (`"200:1,6000:60"`); `null` means no limit.
 *
 * @throws {RangeError} If the string is not a list of `capacity:seconds` pairs of positive integers.
 */
export function parseRateLimit(name: string, spec: string | null): [number, number][] {
  if (spec === null) return [];
  const pairs = spec.split(",").map((part) => {
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
  return pairs;
}

/** The buckets of one limit; all must hold enough tokens for a message to pass. */
class Limit {
  #buckets: Bucket[];

  constructor(pairs: [number, number][], now: number) {
    this.#buckets = pairs.map(([capacity, seconds]) => ({
      capacity,
      perMs: capacity / (seconds * 1000),
      tokens: capacity,
      at: now,
    }));
  }

  /** Refills, then takes `n` tokens from every bucket if each has them; else takes none. */
  tryTake(n: number, now: number): boolean {
    for (const b of this.#buckets) {
      b.tokens = Math.min(b.capacity, b.tokens + (now - b.at) * b.perMs);
      b.at = now;
    }
    if (this.#buckets.some((b) => b.tokens < n)) return false;
    for (const b of this.#buckets) b.tokens -= n;
    return true;
  }
}

/** Which limit a message broke. */
export type RateLimitName = keyof RateLimits;

/** The three limits of one device. */
export class DeviceRateLimits {
  #messages: Limit;
  #telemetryMessages: Limit;
  #telemetryDataPoints: Limit;

  /** @param limits Already validated limit strings. */
  constructor(limits: RateLimits, now: number = Date.now()) {
    this.#messages = new Limit(parseRateLimit("messages", limits.messages), now);
    this.#telemetryMessages = new Limit(
      parseRateLimit("telemetryMessages", limits.telemetryMessages),
      now,
    );
    this.#telemetryDataPoints = new Limit(
      parseRateLimit("telemetryDataPoints", limits.telemetryDataPoints),
      now,
    );
  }

  /**
   * Admits a telemetry or attribute message of `dataPoints` values.
   *
   * @returns `undefined` when it passes, else the limit it broke.
   */
  telemetry(dataPoints: number, now: number = Date.now()): RateLimitName | undefined {
    if (!this.#telemetryMessages.tryTake(1, now)) return "telemetryMessages";
    if (!this.#telemetryDataPoints.tryTake(dataPoints, now)) return "telemetryDataPoints";
    return undefined;
  }

  /**
   * Admits any other message.
   *
   * @returns `undefined` when it passes, else `"messages"`.
   */
  message(now: number = Date.now()): RateLimitName | undefined {
    return this.#messages.tryTake(1, now) ? undefined : "messages";
  }
}
