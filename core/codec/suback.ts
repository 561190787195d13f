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
  checkReasonCodes,
  expectEnd,
  propertyBlockSize,
  readPacketId,
  readReasonCodes,
  writeIdAndProperties,
} from "./_common.ts";
import { readPropertiesInto } from "./_read_properties.ts";

const WA = "SUBACK";

/**
 * Remaining length of SUBACK `p` on `version`, validating it.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function subackRemainingLength(p: SubackPacket, version: ProtocolVersion): number {
  checkPacketId(WA, p.packetId);
  let n = 2 + checkReasonCodes(WA, PacketType.Suback, p.reasonCodes, version); // [MQTT-3.9.3-2]
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
  pos = writeIdAndProperties(p, PacketType.Suback, WA, buf, pos, version);
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
  if (version === 5) readPropertiesInto(r, PacketType.Suback, packet);
  packet.reasonCodes = readReasonCodes(r, PacketType.Suback, version);
  expectEnd(r);
  return packet;
}
