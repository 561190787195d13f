/**
 * Human-readable meanings of MQTT reason and return codes, used in error
 * messages.
 *
 * @module
 */

/** MQTT 3.1/3.1.1 CONNACK return codes 1..5 [MQTT-3.2.2.3]. */
const CONNACK_V4: Readonly<Record<number, string>> = {
  1: "unacceptable protocol version",
  2: "client identifier rejected",
  3: "server unavailable",
  4: "bad user name or password",
  5: "not authorized",
};

/** MQTT 5 reason codes (section 2.4), shared by all packet types. */
const REASON_V5: Readonly<Record<number, string>> = {
  0x00: "success",
  0x04: "disconnect with will message",
  0x10: "no matching subscribers",
  0x11: "no subscription existed",
  0x80: "unspecified error",
  0x81: "malformed packet",
  0x82: "protocol error",
  0x83: "implementation specific error",
  0x84: "unsupported protocol version",
  0x85: "client identifier not valid",
  0x86: "bad user name or password",
  0x87: "not authorized",
  0x88: "server unavailable",
  0x89: "server busy",
  0x8a: "banned",
  0x8b: "server shutting down",
  0x8c: "bad authentication method",
  0x8d: "keep alive timeout",
  0x8e: "session taken over",
  0x8f: "topic filter invalid",
  0x90: "topic name invalid",
  0x91: "packet identifier in use",
  0x92: "packet identifier not found",
  0x93: "receive maximum exceeded",
  0x94: "topic alias invalid",
  0x95: "packet too large",
  0x96: "message rate too high",
  0x97: "quota exceeded",
  0x98: "administrative action",
  0x99: "payload format invalid",
  0x9a: "retain not supported",
  0x9b: "QoS not supported",
  0x9c: "use another server",
  0x9d: "server moved",
  0x9e: "shared subscriptions not supported",
  0x9f: "connection rate exceeded",
  0xa0: "maximum connect time",
  0xa1: "subscription identifiers not supported",
  0xa2: "wildcard subscriptions not supported",
};

/**
 * Formats a byte as `0x8E`.
 *
 * @param code The code.
 * @returns The code in hexadecimal.
 */
export function hex(code: number): string {
  return "0x" + code.toString(16).toUpperCase().padStart(2, "0");
}

/**
 * Describes a reason code the way error messages show it: `0x99 payload
 * format invalid` on MQTT 5, `5 not authorized` for 3.1.1 CONNACK codes.
 *
 * @example
 * ```ts
 * import { describeReasonCode } from "./reason_codes.ts";
 * describeReasonCode(0x8e, 5); // "0x8E session taken over"
 * ```
 *
 * @param code Reason code (v5) or return code (3.1.1 CONNACK).
 * @param protocolVersion Level the code was received on.
 * @returns A short description.
 */
export function describeReasonCode(code: number, protocolVersion: 3 | 4 | 5): string {
  if (protocolVersion === 5) return `${hex(code)} ${REASON_V5[code] ?? "unknown reason"}`;
  return `${code} ${CONNACK_V4[code] ?? "unknown return code"}`;
}
