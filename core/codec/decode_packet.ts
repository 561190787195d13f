/**
 * `decodePacket()`: decode one whole packet from a byte array.
 *
 * @module
 */

import type { DecoderOptions, Packet } from "./types.ts";
import { MAX_PACKET_SIZE, PACKET_NAME } from "./constants.ts";
import { MqttDecodeError } from "./errors.ts";
import { Reader } from "./_bytes.ts";
import { decodeBody } from "./_decode_body.ts";
import { checkMax, checkVersion, headerRemaining, parseHeader } from "./_header.ts";

/**
 * Decodes exactly one whole packet from `bytes`. Payloads are views of
 * `bytes`.
 *
 * @param bytes One complete packet.
 * @param options Protocol level (default 4) and maximum packet size.
 * @returns The decoded packet.
 * @throws {MqttDecodeError} when `bytes` is malformed, incomplete
 * (LENGTH_MISMATCH) or holds more than one packet (LENGTH_MISMATCH).
 *
 * @example
 * ```ts
 * import { decodePacket } from "@tbwasm/sdk/codec";
 * const p = decodePacket(new Uint8Array([0x40, 0x02, 0x00, 0x07])); // { type: "puback", packetId: 7 }
 * ```
 */
export function decodePacket(bytes: Uint8Array, options: DecoderOptions = {}): Packet {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("Cannot decode packet: bytes must be a Uint8Array");
  }
  const version = checkVersion(options.protocolVersion ?? 4);
  const max = checkMax(options.maxPacketSize ?? MAX_PACKET_SIZE);
  if (bytes.length === 0) {
    throw new MqttDecodeError("Cannot decode packet: no bytes", "LENGTH_MISMATCH", 0);
  }
  const size = parseHeader(bytes, 0, bytes.length, 0, version, max);
  const name = PACKET_NAME[bytes[0]! >> 4]!;
  if (size === 0) {
    throw new MqttDecodeError(
      `Cannot decode ${name}: the fixed header is incomplete`,
      "LENGTH_MISMATCH",
      bytes.length,
    );
  }
  const total = size + headerRemaining;
  if (total !== bytes.length) {
    const what = total > bytes.length ? "is incomplete" : "is followed by more bytes";
    throw new MqttDecodeError(
      `Cannot decode ${name}: the packet ${what} (${total} bytes expected, ${bytes.length} given)`,
      "LENGTH_MISMATCH",
      Math.min(total, bytes.length),
    );
  }
  // One reader for all calls (decoding is synchronous), so its topic cache
  // is reused; it drops its reference to `bytes` afterwards.
  const r = reader;
  r.reset(bytes, 0, size, total, 0, name);
  try {
    return decodeBody(r, bytes[0]!, version);
  } finally {
    r.reset(EMPTY, 0, 0, 0, 0, "packet");
  }
}

const reader = new Reader();
const EMPTY = new Uint8Array(0);
