/**
 * UNSUBACK: encode and decode. Reason codes exist only on MQTT 5.
 *
 * @module
 */

import type { ProtocolVersion, UnsubackPacket } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import {
  checkPacketId,
  checkReasonCode,
  expectEnd,
  propertyBlockSize,
  readPacketId,
  readReasonCode,
  typeFail,
} from "./_common.ts";
import { propertiesLength, writeProperties } from "./properties.ts";
import { readProperties } from "./_read_properties.ts";

const WA = "UNSUBACK";

/**
 * Remaining length of UNSUBACK `p` on `version`, validating it. On MQTT 5
 * `reasonCodes` is required (one per topic filter); before it, ignored.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function unsubackRemainingLength(p: UnsubackPacket, version: ProtocolVersion): number {
  checkPacketId(WA, p.packetId);
  if (version < 5) return 2;
  const codes = p.reasonCodes;
  if (!Array.isArray(codes) || codes.length === 0) {
    typeFail(WA, "reasonCodes must be a non-empty array on MQTT 5");
  }
  for (let i = 0; i < codes.length; i++) {
    checkReasonCode(WA, PacketType.Unsuback, codes[i], version, `reasonCodes[${i}]`);
  }
  return 2 + codes.length + propertyBlockSize(p.properties, PacketType.Unsuback, WA);
}

/** Writes UNSUBACK `p` at `pos`; returns the position after it. */
export function writeUnsuback(
  p: UnsubackPacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
  version: ProtocolVersion,
): number {
  buf[pos++] = 0xb0;
  pos = writeVarint(buf, pos, remaining);
  buf[pos++] = p.packetId >>> 8;
  buf[pos++] = p.packetId & 0xff;
  if (version === 5) {
    const len = propertiesLength(p.properties, PacketType.Unsuback, WA);
    pos = writeProperties(buf, pos, p.properties, len);
    for (const code of p.reasonCodes!) buf[pos++] = code;
  }
  return pos;
}

/**
 * Decodes an UNSUBACK body; `reasonCodes` only on MQTT 5.
 *
 * @throws {MqttDecodeError} for a wrong length or a code not allowed.
 */
export function decodeUnsuback(r: Reader, version: ProtocolVersion): UnsubackPacket {
  const packet: UnsubackPacket = { type: "unsuback", packetId: readPacketId(r) };
  if (version === 5) {
    const properties = readProperties(r, PacketType.Unsuback);
    if (properties !== undefined) packet.properties = properties;
    if (r.left === 0) r.fail("MALFORMED_PACKET", "there are no reason codes");
    const codes: number[] = [];
    while (r.left > 0) codes.push(readReasonCode(r, PacketType.Unsuback, version));
    packet.reasonCodes = codes;
  }
  expectEnd(r);
  return packet;
}
