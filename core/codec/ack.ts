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
  readPacketId,
  readReasonTail,
  reasonTailLength,
  writeReasonTail,
} from "./_common.ts";

/**
 * Remaining length of acknowledgement `p` on `version`, validating it.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function ackRemainingLength(p: AckPacket, version: ProtocolVersion): number {
  const typeId = PACKET_TYPE_ID[p.type];
  const where = PACKET_NAME[typeId]!;
  checkPacketId(where, p.packetId);
  return 2 + reasonTailLength(p, typeId, where, version, 1);
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
  return writeReasonTail(p, typeId, PACKET_NAME[typeId]!, buf, pos, remaining - 2);
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
  // With a remaining length below 4 there are no properties (MQTT 5 section 3.4.2.2.1).
  return readReasonTail(r, typeId, version, packet);
}
