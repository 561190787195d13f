/**
 * PUBACK, PUBREC, PUBREL and PUBCOMP: encode and decode.
 *
 * MQTT 5 short forms: with reason code 0 and no properties the packet is 2
 * bytes long (packet identifier only); with a reason code and no properties
 * it is 3 bytes long. Both decode, and the encoder writes the shortest form.
 * Sections 3.4.2.1 and 3.4.2.2.1 of MQTT 5.
 *
 * @module
 */

import type { AckPacket, ProtocolVersion } from "./types.ts";
import { PACKET_NAME, PACKET_TYPE_ID } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import {
  checkPacketId,
  checkReasonCode,
  expectEnd,
  hasProperties,
  propertyBlockSize,
  readPacketId,
  readReasonCode,
} from "./_common.ts";
import { propertiesLength, writeProperties } from "./properties.ts";
import { readProperties } from "./_read_properties.ts";

/**
 * Remaining length of acknowledgement `p` on `version`, validating it.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function ackRemainingLength(p: AckPacket, version: ProtocolVersion): number {
  const typeId = PACKET_TYPE_ID[p.type];
  const where = PACKET_NAME[typeId]!;
  checkPacketId(where, p.packetId);
  if (version < 5) return 2;
  const code = p.reasonCode ?? 0;
  checkReasonCode(where, typeId, code, version);
  if (hasProperties(p.properties)) return 3 + propertyBlockSize(p.properties, typeId, where);
  return code === 0 ? 2 : 3;
}

/** Writes acknowledgement `p` at `pos`; returns the position after it. */
export function writeAck(
  p: AckPacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
): number {
  const typeId = PACKET_TYPE_ID[p.type];
  buf[pos++] = (typeId << 4) | (p.type === "pubrel" ? 0x02 : 0);
  pos = writeVarint(buf, pos, remaining);
  buf[pos++] = p.packetId >>> 8;
  buf[pos++] = p.packetId & 0xff;
  if (remaining > 2) buf[pos++] = p.reasonCode ?? 0;
  if (remaining > 3) {
    const len = propertiesLength(p.properties, typeId, PACKET_NAME[typeId]!);
    pos = writeProperties(buf, pos, p.properties, len);
  }
  return pos;
}

const ACK_TYPES = ["puback", "pubrec", "pubrel", "pubcomp"] as const;

/**
 * Decodes a PUBACK/PUBREC/PUBREL/PUBCOMP body (`typeId` 4..7). On MQTT 5 the
 * result always carries `reasonCode` (0 when omitted).
 *
 * @throws {MqttDecodeError} for packet identifier 0, a reason code not
 * allowed, or a wrong length.
 */
export function decodeAck(r: Reader, typeId: number, version: ProtocolVersion): AckPacket {
  const packet: AckPacket = { type: ACK_TYPES[typeId - 4]!, packetId: readPacketId(r) };
  if (version === 5) {
    packet.reasonCode = r.left > 0 ? readReasonCode(r, typeId, version) : 0;
    // With a remaining length below 4 there are no properties (MQTT 5 section 3.4.2.2.1).
    if (r.left > 0) {
      const properties = readProperties(r, typeId);
      if (properties !== undefined) packet.properties = properties;
    }
  }
  expectEnd(r);
  return packet;
}
