/**
 * Fixed header parsing shared by `MqttDecoder` and `decodePacket()`: the
 * first byte's type and flags, the remaining length (at most 4 bytes,
 * minimally encoded) and the maximum packet size.
 *
 * @module
 */

import type { ProtocolVersion } from "./types.ts";
import { MAX_PACKET_SIZE, PACKET_NAME, PacketType, REQUIRED_HEADER_FLAGS } from "./constants.ts";
import { MqttDecodeError } from "./errors.ts";

/**
 * Checks the first byte of a packet: type 0 is reserved, AUTH needs MQTT 5,
 * and the flags must match {@linkcode REQUIRED_HEADER_FLAGS}
 * [MQTT-2.2.2-2]. MQTT 3.1 (level 3) allowed DUP on PUBREL, SUBSCRIBE and
 * UNSUBSCRIBE retransmissions, so that bit is tolerated there.
 *
 * @param at Stream offset of the byte, for the error.
 */
function checkFirstByte(byte: number, version: ProtocolVersion, at: number) {
  const typeId = byte >> 4;
  if (typeId === 0) {
    throw new MqttDecodeError(
      "Cannot decode packet: packet type 0 is reserved",
      "INVALID_PACKET_TYPE",
      at,
    );
  }
  if (typeId === PacketType.Auth && version < 5) {
    throw new MqttDecodeError(
      "Cannot decode AUTH: AUTH requires MQTT 5",
      "INVALID_PACKET_TYPE",
      at,
    );
  }
  const required = REQUIRED_HEADER_FLAGS[typeId]!;
  if (required < 0) return; // PUBLISH: checked by decodePublish()
  let flags = byte & 0x0f;
  if (version === 3 && required === 0b0010) flags &= 0b0111;
  if (flags !== required) {
    const bits = required.toString(2).padStart(4, "0");
    throw new MqttDecodeError(
      `Cannot decode ${PACKET_NAME[typeId]}: header flags must be 0b${bits}`,
      "INVALID_HEADER_FLAGS",
      at,
    );
  }
}

/** Remaining length found by the last complete {@linkcode parseHeader} call. */
export let headerRemaining = 0;

/**
 * Parses a fixed header at `buf[start..end)`. Returns the header size (2..5)
 * and sets `headerRemaining`, or returns 0 when more bytes are needed.
 * `delta` maps buffer positions to stream offsets.
 */
export function parseHeader(
  buf: Uint8Array,
  start: number,
  end: number,
  delta: number,
  version: ProtocolVersion,
  maxPacketSize: number,
): number {
  const first = buf[start]!;
  checkFirstByte(first, version, start + delta);
  const name = PACKET_NAME[first >> 4];
  let value = 0;
  let mul = 1;
  for (let i = 1; i <= 4; i++) {
    if (start + i >= end) return 0;
    const byte = buf[start + i]!;
    value += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 1) {
        throw new MqttDecodeError(
          `Cannot decode ${name}: remaining length is not minimally encoded`,
          "MALFORMED_REMAINING_LENGTH",
          start + 1 + delta,
        );
      }
      const total = 1 + i + value;
      if (total > maxPacketSize) {
        throw new MqttDecodeError(
          `Cannot decode ${name}: packet of ${total} bytes exceeds the maximum of ${maxPacketSize}`,
          "PACKET_TOO_LARGE",
          start + delta,
        );
      }
      headerRemaining = value;
      return 1 + i;
    }
    mul *= 128;
  }
  // At most four bytes (MQTT 3.1.1 section 2.2.3, MQTT 5 section 1.5.5).
  throw new MqttDecodeError(
    `Cannot decode ${name}: remaining length is longer than 4 bytes`,
    "MALFORMED_REMAINING_LENGTH",
    start + 1 + delta,
  );
}

/** Validates a decoder's protocol level option. */
export function checkVersion(v: unknown): ProtocolVersion {
  if (v !== 3 && v !== 4 && v !== 5) {
    throw new RangeError("Cannot create decoder: protocolVersion must be 3, 4 or 5");
  }
  return v;
}

/** Validates a decoder's maximum packet size option (capped at MAX_PACKET_SIZE). */
export function checkMax(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 2) {
    throw new RangeError("Cannot create decoder: maxPacketSize must be an integer of at least 2");
  }
  return Math.min(n, MAX_PACKET_SIZE);
}
