/**
 * ThingsBoard's session limits (`getSessionLimits`) and the size check they
 * drive.
 *
 * @module
 */

import type { JsonValue } from "../payload.ts";
import { PayloadTooLargeError } from "../mqtt/errors.ts";
import { isObject } from "./_json.ts";

/**
 * What ThingsBoard answers to `getSessionLimits`: the largest message it
 * accepts, its per-device queue size and the tenant's rate limits
 * (`"capacity:seconds,…"` strings, `null` = unlimited).
 *
 * @example
 * ```ts
 * import type { SessionLimits } from "@tbwasm/sdk";
 * const l: SessionLimits = {
 *   maxPayloadSize: 65_536,
 *   maxInflightMessages: 100,
 *   rateLimits: { messages: "200:1,6000:60", telemetryMessages: null, telemetryDataPoints: null },
 * };
 * ```
 */
export interface SessionLimits {
  /** Largest MQTT message ThingsBoard accepts, bytes. */
  maxPayloadSize: number;
  /** Messages ThingsBoard queues per device before authentication completes. */
  maxInflightMessages: number;
  /** Rate limits on this device's messages. */
  rateLimits: RateLimitSpecs;
  /**
   * For a gateway: the limits on the traffic of all the devices behind it
   * together (absent for other devices).
   */
  gatewayRateLimits?: RateLimitSpecs;
}

/**
 * ThingsBoard's rate limits: `"capacity:seconds,…"` strings, `null` = unlimited.
 *
 * @example
 * ```ts
 * import type { RateLimitSpecs } from "@tbwasm/sdk";
 * const r: RateLimitSpecs = { messages: "200:1,6000:60", telemetryMessages: null, telemetryDataPoints: null };
 * ```
 */
export interface RateLimitSpecs {
  /** Limit on messages other than telemetry and attributes. */
  messages: string | null;
  /** Limit on telemetry and attribute messages. */
  telemetryMessages: string | null;
  /** Limit on telemetry and attribute data points. */
  telemetryDataPoints: string | null;
}

function specs(json: JsonValue | undefined): RateLimitSpecs {
  const rate = isObject(json) ? json : {};
  return {
    messages: limit(rate.messages),
    telemetryMessages: limit(rate.telemetryMessages),
    telemetryDataPoints: limit(rate.telemetryDataPoints),
  };
}

function limit(value: JsonValue | undefined): string | null {
  return typeof value === "string" ? value : null;
}

/**
 * Parses the `getSessionLimits` reply.
 *
 * @param json The reply.
 * @returns The limits.
 * @throws {TypeError} when `maxPayloadSize` is missing or not a positive integer.
 */
export function parseSessionLimits(json: JsonValue): SessionLimits {
  if (!isObject(json)) throw new TypeError("expected a JSON object");
  const { maxPayloadSize, maxInflightMessages } = json;
  if (
    typeof maxPayloadSize !== "number" || !Number.isSafeInteger(maxPayloadSize) ||
    maxPayloadSize <= 0
  ) {
    throw new TypeError('expected "maxPayloadSize" to be a positive integer');
  }
  return {
    maxPayloadSize,
    maxInflightMessages: typeof maxInflightMessages === "number" ? maxInflightMessages : 100,
    rateLimits: specs(json.rateLimits),
    ...(isObject(json.gatewayRateLimits)
      ? { gatewayRateLimits: specs(json.gatewayRateLimits) }
      : {}),
  };
}

/** UTF-8 length of a string without encoding it (a lone surrogate counts as U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4; // a surrogate pair
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Size of a PUBLISH after its fixed header (the MQTT "remaining length",
 * which is what ThingsBoard's `max_payload_size` bounds).
 *
 * @param topic Topic name.
 * @param payloadLength Payload bytes.
 * @param qos QoS of the PUBLISH.
 * @param protocolVersion Protocol level (5 adds an empty property length).
 * @returns The size in bytes.
 */
export function publishSize(
  topic: string,
  payloadLength: number,
  qos: 0 | 1,
  protocolVersion: 4 | 5,
): number {
  return 2 + utf8Length(topic) + (qos > 0 ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) +
    payloadLength;
}

/**
 * Refuses a message larger than the server accepts, before it is sent.
 *
 * @param what What is sent ("telemetry"), for the message.
 * @param size Size from {@linkcode publishSize}.
 * @param limit The server's limit.
 * @throws {PayloadTooLargeError} naming both sizes.
 */
export function checkSize(what: string, size: number, limit: number): void {
  if (size > limit) throw new PayloadTooLargeError(size, limit, what);
}
