/**
 * SUBACK: encode and decode.
 *
 * @module
 */

import type { ProtocolVersion, SubackPacket } from "./types.ts";
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

const WA = "SUBACK";

/**
 * Remaining length of SUBACK `p` on `version`, validating it.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function subackRemainingLength(p: SubackPacket, version: ProtocolVersion): number {
  checkPacketId(WA, p.packetId);
  const codes = p.reasonCodes;
  if (!Array.isArray(codes) || codes.length === 0) {
    typeFail(WA, "reasonCodes must be a non-empty array");
  }
  for (let i = 0; i < codes.length; i++) {
    checkReasonCode(WA, PacketType.Suback, codes[i], version, `reasonCodes[${i}]`); // [MQTT-3.9.3-2]
  }
  let n = 2 + codes.length;
  if (version === 5) n += propertyBlockSize(p.properties, PacketType.Suback, WA);
  return n;
}

/** Writes SUBACK `p` at `pos`; returns the position after it. */
export function writeSuback(
  p: SubackPacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
  version: ProtocolVersion,
): number {
  buf[pos++] = 0x90;
  pos = writeVarint(buf, pos, remaining);
  buf[pos++] = p.packetId >>> 8;
  buf[pos++] = p.packetId & 0xff;
  if (version === 5) {
    pos = writeProperties(
      buf,
      pos,
      p.properties,
      propertiesLength(p.properties, PacketType.Suback, WA),
    );
  }
  for (const code of p.reasonCodes) buf[pos++] = code;
  return pos;
}

/**
 * Decodes a SUBACK body.
 *
 * @throws {MqttDecodeError} for no reason codes or a code not allowed.
 */
export function decodeSuback(r: Reader, version: ProtocolVersion): SubackPacket {
  const packet: SubackPacket = { type: "suback", packetId: readPacketId(r), reasonCodes: [] };
  if (version === 5) {
    const properties = readProperties(r, PacketType.Suback);
    if (properties !== undefined) packet.properties = properties;
  }
  if (r.left === 0) r.fail("MALFORMED_PACKET", "there are no reason codes");
  while (r.left > 0) packet.reasonCodes.push(readReasonCode(r, PacketType.Suback, version));
  expectEnd(r);
  return packet;
}
