/**
 * PINGREQ and PINGRESP: a fixed header with remaining length 0.
 *
 * @module
 */

import type { PingPacket } from "./types.ts";
import type { Reader } from "./_bytes.ts";
import { expectEnd } from "./_common.ts";

/** Writes PINGREQ (0xc0 0x00) or PINGRESP (0xd0 0x00); returns the position after it. */
export function writePing(p: PingPacket, buf: Uint8Array, pos: number): number {
  buf[pos] = p.type === "pingreq" ? 0xc0 : 0xd0;
  buf[pos + 1] = 0;
  return pos + 2;
}

/**
 * Decodes a PINGREQ (`typeId` 12) or PINGRESP (13) body, which must be empty.
 *
 * @throws {MqttDecodeError} LENGTH_MISMATCH when the body is not empty.
 */
export function decodePing(r: Reader, typeId: number): PingPacket {
  expectEnd(r);
  return { type: typeId === 12 ? "pingreq" : "pingresp" };
}
