/**
 * Client-side pacing by ThingsBoard's rate limits. ThingsBoard closes a
 * session that exceeds its tenant's limits (v5 DISCONNECT 0x83); the client
 * paces itself instead, once `getSessionLimits` reported them. Limits are
 * token buckets `"capacity:seconds,…"` refilled continuously (greedy, as
 * ThingsBoard's bucket4j), applied at 80 % like the Python SDK.
 *
 * Telemetry and attribute messages take one token from `telemetryMessages`
 * and one per data point from `telemetryDataPoints`; every other message
 * takes one from `messages` (ThingsBoard's `checkEntityRateLimit`).
 *
 * @module
 */

import type { SessionLimits } from "./limits.ts";

/** Share of the server's limits the client uses. */
export const RATE_LIMIT_SHARE = 0.8;

interface Bucket {
  capacity: number;
  perMs: number;
  tokens: number;
  at: number;
}

/** One limit: a set of token buckets that must all have room. */
export class RateLimit {
  #buckets: Bucket[];

  /**
   * Creates a limit from `[capacity, seconds]` pairs.
   *
   * @param windows Capacity and window length of each bucket.
   * @param now Current time, ms.
   */
  constructor(windows: ReadonlyArray<[number, number]>, now: number) {
    this.#buckets = windows.map(([capacity, seconds]) => ({
      capacity,
      perMs: capacity / (seconds * 1000),
      tokens: capacity,
      at: now,
    }));
  }

  /**
   * Parses ThingsBoard's `"cap:seconds,cap:seconds"`, scaled by `share`.
   *
   * @param spec The limit, or `null` for none.
   * @param now Current time, ms.
   * @param share Fraction of each capacity to use.
   * @returns The limit, or `undefined` for none or an unparsable spec.
   */
  static parse(spec: string | null, now: number, share = RATE_LIMIT_SHARE): RateLimit | undefined {
    if (!spec) return undefined;
    const windows: Array<[number, number]> = [];
    for (const part of spec.split(",")) {
      const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
      if (!m) return undefined;
      const capacity = Math.max(1, Math.floor(Number(m[1]) * share));
      const seconds = Number(m[2]);
      if (seconds <= 0) return undefined;
      windows.push([capacity, seconds]);
    }
    return windows.length > 0 ? new RateLimit(windows, now) : undefined;
  }

  /** Capacity of the smallest bucket. */
  get smallestCapacity(): number {
    return Math.min(...this.#buckets.map((b) => b.capacity));
  }

  /**
   * Takes `n` tokens from every bucket if each has them, else none (how a
   * server enforcing the limit decides).
   *
   * @param n Tokens.
   * @param now Current time, ms.
   * @returns Whether the tokens were taken.
   */
  tryTake(n: number, now: number): boolean {
    this.#refill(now);
    if (this.#buckets.some((b) => b.tokens < n)) return false;
    for (const b of this.#buckets) b.tokens -= n;
    return true;
  }

  #refill(now: number): void {
    for (const b of this.#buckets) {
      b.tokens = Math.min(b.capacity, b.tokens + (now - b.at) * b.perMs);
      b.at = now;
    }
  }

  /**
   * Takes `n` tokens from every bucket, going into debt when short.
   *
   * @param n Tokens.
   * @param now Current time, ms.
   * @returns Milliseconds to wait until the debt is repaid (0 if none).
   */
  reserve(n: number, now: number): number {
    this.#refill(now);
    let wait = 0;
    for (const b of this.#buckets) {
      b.tokens -= n;
      if (b.tokens < 0) wait = Math.max(wait, Math.ceil(-b.tokens / b.perMs));
    }
    return wait;
  }
}

type LimitSpecs = SessionLimits["rateLimits"];
type LimitName = keyof LimitSpecs;

/** The three limits of a device session. */
export class RateLimiter {
  #specs: LimitSpecs;
  #limits: Record<LimitName, RateLimit | undefined>;

  /**
   * Creates the limiter from reported limits. A limit the `previous` limiter
   * had with the same spec keeps its buckets: ThingsBoard counts per device,
   * across connections, so a reconnect (which brings the same limits again)
   * must not hand out a fresh burst the server would punish.
   *
   * @param limits The `rateLimits` of {@linkcode SessionLimits}.
   * @param now Current time, ms.
   * @param previous The limiter the last answer made, if any.
   */
  constructor(limits: LimitSpecs, now: number, previous?: RateLimiter) {
    this.#specs = { ...limits };
    const limit = (name: LimitName) =>
      previous !== undefined && previous.#specs[name] === limits[name]
        ? previous.#limits[name]
        : RateLimit.parse(limits[name], now);
    this.#limits = {
      messages: limit("messages"),
      telemetryMessages: limit("telemetryMessages"),
      telemetryDataPoints: limit("telemetryDataPoints"),
    };
  }

  /**
   * Reserves room for one message.
   *
   * @param dataPoints Data points of a telemetry/attributes message, or
   * `undefined` for any other message.
   * @param now Current time, ms.
   * @returns Milliseconds to wait before sending.
   */
  reserve(dataPoints: number | undefined, now: number): number {
    const { messages, telemetryMessages, telemetryDataPoints } = this.#limits;
    if (dataPoints === undefined) return messages?.reserve(1, now) ?? 0;
    return Math.max(
      telemetryMessages?.reserve(1, now) ?? 0,
      dataPoints > 0 ? telemetryDataPoints?.reserve(dataPoints, now) ?? 0 : 0,
    );
  }
}

/**
 * Most tokens one request may take from a limit as the server enforces it:
 * the capacity of its smallest bucket (a larger request never fits, however
 * long it waits).
 *
 * @param spec ThingsBoard's `"cap:seconds,…"`, or `null` for none.
 * @returns The capacity, or `Infinity` for no (or an unparsable) limit.
 */
export function largestRequest(spec: string | null): number {
  const limit = RateLimit.parse(spec, 0, 1);
  return limit === undefined ? Infinity : limit.smallestCapacity;
}

function countValues(values: object): number {
  let n = 0;
  for (const v of Object.values(values)) if (v !== null) n++;
  return n;
}

function countEntry(entry: object): number {
  const e = entry as { ts?: unknown; values?: unknown };
  if ("ts" in e && "values" in e && typeof e.values === "object" && e.values !== null) {
    return countValues(e.values);
  }
  return countValues(entry);
}

/**
 * Data points of a validated telemetry or attributes payload, as
 * ThingsBoard counts them (non-null key/value pairs).
 *
 * @param data Telemetry or attributes.
 * @returns The count.
 */
export function countDataPoints(data: object): number {
  if (Array.isArray(data)) return data.reduce((n: number, e: object) => n + countEntry(e), 0);
  return countEntry(data);
}
