/**
 * Typed errors of the MQTT codec.
 *
 * @module
 */

import type { Packet } from "./types.ts";

/**
 * Stable machine-readable codes carried by {@linkcode MqttDecodeError}.
 *
 * @example
 * ```ts
 * import type { MqttDecodeErrorCode } from "@tbwasm/sdk/codec";
 * const code: MqttDecodeErrorCode = "INVALID_QOS";
 * ```
 */
export type MqttDecodeErrorCode =
  /** Remaining length uses more than 4 bytes or is not minimally encoded. */
  | "MALFORMED_REMAINING_LENGTH"
  /** The packet is larger than the configured maximum packet size. */
  | "PACKET_TOO_LARGE"
  /** Packet type 0, or AUTH on a protocol level below 5. */
  | "INVALID_PACKET_TYPE"
  /** Reserved fixed-header flag bits have the wrong value. */
  | "INVALID_HEADER_FLAGS"
  /** QoS 3, or an invalid QoS in a will or subscription. */
  | "INVALID_QOS"
  /** Packet identifier 0 where a non-zero one is required. */
  | "INVALID_PACKET_ID"
  /** A string is not well-formed UTF-8 or contains U+0000. */
  | "INVALID_UTF8"
  /** A topic name contains wildcards, or a topic filter is malformed or empty. */
  | "INVALID_TOPIC"
  /** Unknown property id, property not allowed on this packet, bad value, or duplicate. */
  | "INVALID_PROPERTY"
  /** A reason code not allowed for this packet type. */
  | "INVALID_REASON_CODE"
  /** CONNECT protocol name or level not supported. */
  | "UNSUPPORTED_PROTOCOL"
  /** Reserved bits set, bad flag combinations, missing payload and other structural faults. */
  | "MALFORMED_PACKET"
  /** The packet's fields end before or after its remaining length says. */
  | "LENGTH_MISMATCH"
  /** Input was pushed after an earlier decode error; call `reset()` first. */
  | "DECODER_FAILED";

/**
 * Thrown when bytes from the network are not a valid MQTT packet. After one,
 * the decoder refuses further input until it is reset; the connection that
 * carried the bytes must be closed.
 *
 * @example Telling a protocol violation from other failures
 * ```ts
 * import { MqttDecodeError, MqttDecoder } from "@tbwasm/sdk/codec";
 * const decoder = new MqttDecoder();
 * try {
 *   decoder.push(new Uint8Array([0x36, 0x00])); // PUBLISH with QoS 3
 * } catch (e) {
 *   if (e instanceof MqttDecodeError) console.log(e.code, e.offset);
 * }
 * ```
 */
export class MqttDecodeError extends SyntaxError {
  /** Stable error code. */
  readonly code: MqttDecodeErrorCode;
  /** Byte offset in the stream (since the last reset) where the fault was found. */
  readonly offset: number;
  /**
   * Whole packets decoded from the same chunk before the fault, in order.
   * Act on them (a CONNACK refusal, say) before closing the connection.
   */
  packets: Packet[] = [];

  /**
   * Creates a decode error.
   *
   * @param message Message in std style ("Cannot decode PUBLISH: QoS 3 is not allowed").
   * @param code Stable error code.
   * @param offset Byte offset in the stream.
   */
  constructor(message: string, code: MqttDecodeErrorCode, offset: number) {
    super(message);
    this.name = "MqttDecodeError";
    this.code = code;
    this.offset = offset;
  }
}
